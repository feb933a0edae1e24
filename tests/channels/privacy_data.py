"""A conversation that gave contact details, as the channels and Rasa keep it: transcript rows
and the tracker's events in the ``events`` table Rasa 3.6 writes (same columns, same JSON)."""

import json
import time
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from channels.models import InboundMessage, OutboxMessage, utcnow
from channels.privacy.erase import EVENTS
from channels.transcript import ChatMessage

MOBILE = "13912345678"
NAME = "张伟"
ID_NUMBER = "11010519491231002X"


def create_events_table(engine: Engine) -> None:
    EVENTS.metadata.create_all(engine, tables=[EVENTS])


def need_events(at: float) -> list[dict[str, Any]]:
    """A need whose contact step took a name, then a mobile typed in a sentence."""

    def user(text: str, intent: str = "inform", entities: list[Any] | None = None) -> Any:
        return {
            "event": "user",
            "timestamp": at,
            "text": text,
            "parse_data": {
                "intent": {"name": intent, "confidence": 0.97},
                "entities": entities or [],
                "text": text,
                "message_id": "m" + str(abs(hash(text)))[:8],
            },
            "input_channel": "rest",
            "message_id": "m" + str(abs(hash(text)))[:8],
            "metadata": {},
        }

    def bot(text: str, action: str) -> Any:
        return {
            "event": "bot",
            "timestamp": at,
            "text": text,
            "data": {},
            "metadata": {"utter_action": action},
        }

    def slot(name: str, value: Any) -> Any:
        return {"event": "slot", "timestamp": at, "name": name, "value": value}

    def action(name: str) -> Any:
        return {
            "event": "action",
            "timestamp": at,
            "name": name,
            "policy": None,
            "confidence": None,
        }

    return [
        action("action_session_start"),
        {"event": "session_started", "timestamp": at},
        action("action_listen"),
        user("我们有一批电线电缆需要检测", "request_service"),
        slot("need_product", "电线电缆"),
        slot("privacy_consent", True),
        bot("请问联系人怎么称呼？", "utter_ask_contact_name"),
        slot("requested_slot", "contact_name"),
        action("action_listen"),
        user(NAME),
        slot("contact_name", NAME),
        bot("请留下联系人的手机号码。", "utter_ask_contact_mobile"),
        slot("requested_slot", "contact_mobile"),
        action("action_listen"),
        user(f"我的手机是{MOBILE}，身份证{ID_NUMBER}"),
        slot("contact_mobile", MOBILE),
        slot("requested_slot", None),
        bot(f"好的，{NAME}，我们会通过 {MOBILE} 联系您。", "utter_need_submitted"),
        action("action_listen"),
    ]


def write_events(engine: Engine, sender_id: str, events: list[dict[str, Any]]) -> None:
    with engine.begin() as connection:
        connection.execute(
            sa.insert(EVENTS),
            [
                {
                    "sender_id": sender_id,
                    "type_name": e["event"],
                    "timestamp": e.get("timestamp"),
                    "intent_name": (e.get("parse_data") or {}).get("intent", {}).get("name"),
                    "action_name": e.get("name") if e["event"] == "action" else None,
                    "data": json.dumps(e, ensure_ascii=False),
                }
                for e in events
            ],
        )


def stored_events(engine: Engine, sender_id: str) -> list[tuple[int, dict[str, Any]]]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(EVENTS.c.id, EVENTS.c.data)
            .where(EVENTS.c.sender_id == sender_id)
            .order_by(EVENTS.c.id)
        )
        return [(i, json.loads(d)) for i, d in rows]


def events_text(engine: Engine, sender_id: str) -> str:
    return json.dumps([e for _, e in stored_events(engine, sender_id)], ensure_ascii=False)


def write_transcript(session: Session, conversation_id: str, *, at: datetime | None = None) -> None:
    at = at or utcnow()
    channel = "wechat" if conversation_id.startswith("wx:") else "web"
    lines = [
        ("user", "我们有一批电线电缆需要检测", {}),
        ("bot", "请问联系人怎么称呼？", {}),
        ("user", NAME, {}),
        ("bot", "请留下联系人的手机号码。", {}),
        ("user", f"我的手机是{MOBILE}，身份证{ID_NUMBER}", {"payload": MOBILE}),
        ("bot", f"好的，{NAME}，我们会通过 {MOBILE} 联系您。", {"buttons": []}),
    ]
    session.add(  # the user's message as kept for the bot, with the bot's answer
        InboundMessage(
            conversation_id=conversation_id,
            channel=channel,
            bot_text=f"我的手机是{MOBILE}，身份证{ID_NUMBER}",
            status="done",
            replies=[{"text": f"好的，{NAME}，我们会通过 {MOBILE} 联系您。", "buttons": []}],
            created_at=at,
        )
    )
    if channel == "wechat":  # that answer sent later as a customer-service message
        session.add(
            OutboxMessage(
                openid=conversation_id.removeprefix("wx:"),
                content=f"好的，{NAME}，我们会通过 {MOBILE} 联系您。",
                status="sent",
                created_at=at,
            )
        )
    for index, (sender, text, payload) in enumerate(lines):
        session.add(
            ChatMessage(
                conversation_id=conversation_id,
                channel=channel,
                sender=sender,
                text=text,
                payload=payload,
                created_at=at + timedelta(seconds=index),
            )
        )
    session.commit()


def transcript_text(session: Session, conversation_id: str) -> str:
    """Everything the channels keep of the conversation's words: transcript lines, messages kept
    for the bot with their replies, WeChat's outbox."""
    rows = session.scalars(
        sa.select(ChatMessage).where(ChatMessage.conversation_id == conversation_id)
    )
    kept = session.scalars(
        sa.select(InboundMessage).where(InboundMessage.conversation_id == conversation_id)
    )
    sent = session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.openid == conversation_id.removeprefix("wx:"))
    )
    return json.dumps(
        [(r.text, r.payload) for r in rows]
        + [(m.bot_text, m.replies) for m in kept]
        + [o.content for o in sent],
        ensure_ascii=False,
    )


def epoch(moment: datetime) -> float:
    return moment.timestamp() if moment.tzinfo else time.mktime(moment.timetuple())
