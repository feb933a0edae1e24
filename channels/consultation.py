"""The conversations as the expert console needs them: the channels' side of
:class:`desk.consultations.ports.ConversationPort`.

* reading: the transcript (``chat_messages``) as :class:`TranscriptLine` s, by conversation or by
  cursor over the watched ones (the console's live stream);
* the window: whether an expert's free text can reach the enterprise now (web: always; WeChat:
  the customer-service window of 48 h and 5 messages that the outbox keeps per follower);
* sending: an expert's reply through the enterprise's own channel — the web page's stream, a
  WeChat customer-service message by the outbox (sent now, or held for the next contact), or a
  WeChat template message once the window is closed. Once per ``client_id``, in any process:
  the send claims the unique ``chat_inbound.dedupe_key`` ``expert:<conversation>:<client id>``
  in the transaction that records the line (and its outbox row), so a second call, here or in
  another process, waits for the first transaction and then finds its line;
* handing back: the expert's lines go into Rasa's tracker as bot events with metadata, Rasa runs
  ``action_handoff_back``, and what it says reaches the user (or, with Rasa away, a system line).
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import requests
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from channels import lifecycle, transcript
from channels.conversations import Conversations
from channels.gateway import BotMessage, BotUnavailable, RasaGateway
from channels.models import InboundMessage, OutboxMessage, WeChatContact, as_utc, utcnow
from channels.settings import ChannelSettings
from channels.transcript import ChatMessage
from channels.wechat.window import ensure_contact
from desk.consultations.schemas import Delivery, SendMode, TranscriptLine, Window
from desk.db import get_sessionmaker
from desk.errors import DeskError
from desk.escalations.service import active_escalation
from desk.live.notifier import Notifier

if TYPE_CHECKING:
    from channels.wechat.channel import WeChatChannel

log = logging.getLogger(__name__)

WEB, WECHAT = "web", "wechat"
SENDERS = frozenset({"user", "bot", "expert", "system"})
HANDOFF_ACTION = "action_handoff_back"
HANDOFF_SLOT = "handoff_outcome"
SAID_SLOT = "handoff_expert_said"  # what action_handoff_back keeps of the expert's last words
SAID_MAX = 200
EXPERT_KEY = "qclinic_expert"
LINES_PAGE = 500
CHINA = ZoneInfo("Asia/Shanghai")

HANDED_BACK = "专家咨询已结束，智能助手将继续为您服务。如有其他问题，请直接留言。"
CLOSED = "用户最后一次发消息已超过{hours}小时，客服消息窗口已关闭。"
SPENT = "{hours}小时内的{quota}条客服消息已用完。"
UNSUBSCRIBED = "用户已取消关注公众号。"
NO_CONTACT = "用户尚未在公众号中发过消息，暂时无法发送客服消息。"
NO_API = "公众号未配置 AppID 和 AppSecret，无法主动发送消息。"
WECHAT_OFF = "公众号通道未启用。"
TEMPLATE_OFF = "未配置模板消息（QCLINIC_WECHAT_TEMPLATE_REPLY），无法发送模板消息。"
TEMPLATE_WEB = "网页会话无需模板消息，请直接发送。"
TEMPLATE_FIRST = "您好，质量门诊专家回复了您的咨询。"
TEMPLATE_REMARK = "回复本公众号任意消息，即可继续咨询。"
TEMPLATE_NOT_REACHED = "无法连接微信服务器，模板消息未发出。"


class WindowClosed(DeskError):
    """Free text cannot reach the WeChat user now; the message says why."""

    code = "window_closed"
    status = 409


class TemplateUnavailable(DeskError):
    code = "template_unavailable"
    status = 409


class ChannelUnavailable(DeskError):
    code = "channel_unavailable"
    status = 503


def _openid(conversation_id: str) -> str:
    return conversation_id.removeprefix("wx:")


def _hours(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def line_of(row: ChatMessage) -> TranscriptLine:
    """A transcript row as the console shows it."""
    payload = row.payload or {}
    sent = payload.get("delivery")
    buttons = [
        {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
        for b in payload.get("buttons") or []
        if isinstance(b, dict)
    ]
    return TranscriptLine(
        id=row.id,
        sender=row.sender if row.sender in SENDERS else "system",  # type: ignore[arg-type]
        text=row.text,
        created_at=as_utc(row.created_at) or utcnow(),
        channel=row.channel,
        author=payload.get("author") if row.sender == "expert" else None,
        delivery=Delivery.model_validate(sent) if isinstance(sent, dict) else None,
        buttons=buttons,
    )


@dataclass(frozen=True)
class _Stored:
    line: TranscriptLine
    fresh: bool  # False: the same client id was sent before (this is that line)


class ChannelConversations:
    """The channels' :class:`~desk.consultations.ports.ConversationPort`."""

    def __init__(
        self,
        *,
        settings: ChannelSettings,
        conversations: Conversations,
        gateway: RasaGateway,
        notifier: Notifier,
        wechat: "WeChatChannel | None",
    ) -> None:
        assert settings.database_url is not None
        self._sessions = get_sessionmaker(settings.database_url)
        self._conversations = conversations
        self._gateway = gateway
        self._notifier = notifier
        self._wechat = wechat
        self._quota = settings.wechat_cs_quota
        self._window_h = settings.wechat_cs_window_h
        self._template_id = settings.wechat_template_reply

    # -- reading -----------------------------------------------------------------------------

    def transcript(self, session: Session, *, conversation_id: str) -> list[TranscriptLine]:
        rows = session.scalars(
            select(ChatMessage)
            .where(ChatMessage.conversation_id == conversation_id)
            .order_by(ChatMessage.id)
        )
        return [line_of(r) for r in rows]

    def lines_since(
        self, session: Session, *, after_id: int, conversation_ids: Sequence[str]
    ) -> list[tuple[str, TranscriptLine]]:
        if not conversation_ids:
            return []
        rows = session.scalars(
            select(ChatMessage)
            .where(
                ChatMessage.id > after_id,
                ChatMessage.conversation_id.in_(list(conversation_ids)),
            )
            .order_by(ChatMessage.id)
            .limit(LINES_PAGE)
        )
        return [(r.conversation_id, line_of(r)) for r in rows]

    def last_line_id(self, session: Session) -> int:
        return int(session.scalar(select(func.max(ChatMessage.id))) or 0)

    # -- the window --------------------------------------------------------------------------

    def window(self, session: Session, *, conversation_id: str, channel: str) -> Window:
        if channel != WECHAT:
            return Window(channel=channel, free_text=True)
        if self._wechat is None:
            return Window(channel=channel, free_text=False, reason=WECHAT_OFF)
        if self._wechat.client is None:
            return Window(channel=channel, free_text=False, reason=NO_API)
        contact = session.get(WeChatContact, _openid(conversation_id))
        if contact is None:
            return Window(
                channel=channel,
                free_text=False,
                reason=NO_CONTACT,
                remaining=0,
                template_available=self._template_id is not None,
            )
        last = as_utc(contact.last_contact_at) or utcnow()
        until = last + timedelta(hours=self._window_h)
        remaining = max(0, self._quota - contact.window_sent)
        reason = None
        if not contact.subscribed:
            reason = UNSUBSCRIBED
        elif until <= utcnow():
            reason = CLOSED.format(hours=_hours(self._window_h))
        elif remaining == 0:
            reason = SPENT.format(hours=_hours(self._window_h), quota=self._quota)
        return Window(
            channel=channel,
            free_text=reason is None,
            reason=reason,
            remaining=remaining if reason is None else 0,
            until=until,
            # a template reaches a follower outside the window, not one who left
            template_available=self._template_id is not None and bool(contact.subscribed),
        )

    # -- sending -----------------------------------------------------------------------------

    async def send(
        self,
        *,
        conversation_id: str,
        channel: str,
        text: str,
        mode: SendMode,
        author: str,
        client_id: str,
    ) -> TranscriptLine:
        text = text.strip()
        if channel == WECHAT:
            if self._wechat is None:
                raise ChannelUnavailable(WECHAT_OFF)
            if self._wechat.client is None:
                raise ChannelUnavailable(NO_API)
        if mode == "template" and channel != WECHAT:
            raise TemplateUnavailable(TEMPLATE_WEB)
        if mode == "template" and self._template_id is None:
            raise TemplateUnavailable(TEMPLATE_OFF)
        stored = await run_in_threadpool(
            self._store, conversation_id, channel, text, mode, author, client_id
        )
        if not stored.fresh:
            return stored.line
        line = stored.line
        if channel == WECHAT and mode == "template":
            line = await run_in_threadpool(self._send_template, conversation_id, line)
        await self._notifier.publish(conversation_id)  # the web page's stream, the consoles
        if channel == WECHAT and mode != "template" and self._wechat is not None:
            await self._wechat.outbox.wake()
        return line

    def _store(
        self,
        conversation_id: str,
        channel: str,
        text: str,
        mode: SendMode,
        author: str,
        client_id: str,
    ) -> _Stored:
        """The line (and its outbox row), once per client id, in one transaction."""
        key = f"expert:{conversation_id}:{client_id}"
        with self._sessions() as session:
            earlier = self._sent_before(session, key)
            if earlier is not None:
                return _Stored(earlier, fresh=False)
            if channel == WECHAT and mode == "send":
                window = self.window(session, conversation_id=conversation_id, channel=channel)
                if not window.free_text:
                    raise WindowClosed(window.reason or CLOSED.format(hours=48))
            now = utcnow()
            claim = InboundMessage(  # done at once: its unique key is all it is there for
                conversation_id=conversation_id,
                channel=channel,
                dedupe_key=key,
                kind="expert",
                bot_text=None,
                status="done",
                attempts=0,
                delivery="queued",
                replies=[],
                created_at=now,
                done_at=now,
            )
            session.add(claim)
            try:
                session.flush()  # waits for a concurrent first send's transaction to end
            except IntegrityError:
                session.rollback()
                earlier = self._sent_before(session, key)
                if earlier is None:
                    raise
                return _Stored(earlier, fresh=False)
            escalation = active_escalation(session, conversation_id=conversation_id)
            # the web page shows it at once (or when it is opened again)
            state = {"queue": "queued", "send": "pending"}.get(mode, "pending")
            state = state if channel == WECHAT else "sent"
            row = transcript.record(
                session,
                conversation_id=conversation_id,
                channel=channel,
                sender="expert",
                text=text,
                payload={
                    "buttons": [],
                    "author": author,
                    "client_id": client_id,
                    "escalation_id": escalation.id if escalation is not None else None,
                    "delivery": transcript.delivery(state, mode),
                },
            )
            session.flush()
            claim.replies = [{"id": row.id}]
            if channel == WECHAT and mode != "template":
                openid = _openid(conversation_id)
                ensure_contact(session, openid)
                session.add(
                    OutboxMessage(
                        openid=openid,
                        inbound_id=claim.id,
                        chat_message_id=row.id,
                        content=text,
                        # queue: held, like what waits for a closed window; the next contact
                        # releases it (channels/wechat/window.py)
                        status="held" if mode == "queue" else "pending",
                        attempts=0,
                        created_at=now,
                    )
                )
            session.commit()
            return _Stored(line_of(row), fresh=True)

    def _sent_before(self, session: Session, key: str) -> TranscriptLine | None:
        claim = lifecycle.by_key(session, key)
        if claim is None or not claim.replies:
            return None
        row = session.get(ChatMessage, int(claim.replies[0]["id"]))
        return line_of(row) if row is not None else None

    def _send_template(self, conversation_id: str, line: TranscriptLine) -> TranscriptLine:
        """A template message (模板消息) with the expert's words (blocking: a worker thread)."""
        from channels.wechat.client import WeChatApiError

        assert self._wechat is not None and self._wechat.client is not None
        assert self._template_id is not None
        at = line.created_at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")
        # WeChat no longer shows first and remark (since 2023): the words go in keyword1
        data = {
            "first": {"value": TEMPLATE_FIRST},
            "keyword1": {"value": line.text},
            "keyword2": {"value": at},
            "remark": {"value": TEMPLATE_REMARK},
        }
        state, code, message = "sent", None, None
        try:
            self._wechat.client.message.send_template(
                _openid(conversation_id), self._template_id, data
            )
        except WeChatApiError as exc:  # errcode None: an HTTP error, no answer of WeChat's
            state, code = "failed", exc.errcode
            message = exc.errmsg if exc.errcode is not None else TEMPLATE_NOT_REACHED
            log.warning("template message refused code=%s", exc.errcode)
        except (requests.ConnectionError, requests.exceptions.ConnectTimeout) as exc:
            state, message = "failed", TEMPLATE_NOT_REACHED
            log.warning("template message not sent error=%r", exc)
        except requests.Timeout:
            log.warning("template message unconfirmed (timeout): counted as sent")
        with self._sessions() as session:
            transcript.set_delivery(
                session, message_id=line.id, state=state, errcode=code, errmsg=message
            )
            session.commit()
            row = session.get(ChatMessage, line.id)
            assert row is not None
            return line_of(row)

    # -- handing back ------------------------------------------------------------------------

    async def hand_back(
        self,
        *,
        conversation_id: str,
        channel: str,
        expert: str,
        outcome: str,
        escalation_id: int,
        greet: bool = True,
    ) -> list[TranscriptLine]:
        if channel == WECHAT:
            await run_in_threadpool(self._drop_failed, conversation_id, escalation_id)
        said = await run_in_threadpool(self._expert_lines, conversation_id, escalation_id)
        events: list[dict[str, Any]] = [
            {
                "event": "bot",
                "text": line.text,
                "timestamp": line.created_at.timestamp(),
                "metadata": {EXPERT_KEY: line.author or expert, "escalation_id": escalation_id},
            }
            for line in said
        ]
        if not greet:  # the user was told already: the bot learns the words, nothing is said
            if said:
                last = " ".join(said[-1].text.split())
                clipped = last if len(last) <= SAID_MAX else last[: SAID_MAX - 1] + "…"
                events.append({"event": "slot", "name": SAID_SLOT, "value": clipped})
            try:
                if events:
                    await self._gateway.append_events(conversation_id, events)
            except BotUnavailable:
                log.warning("idle hand back not told to the bot conversation=%s", conversation_id)
            return []
        events.append({"event": "slot", "name": HANDOFF_SLOT, "value": outcome})
        sender = "bot"
        try:
            await self._gateway.append_events(conversation_id, events)
            replies = await self._gateway.execute_action(conversation_id, HANDOFF_ACTION)
        except BotUnavailable:
            log.warning("hand back without the bot conversation=%s", conversation_id)
            replies = []
        if not replies:  # the user is never left without a word that the expert has gone
            replies, sender = [BotMessage(text=HANDED_BACK)], "system"
        public = await self._conversations.deliver(
            conversation_id=conversation_id, channel=channel, messages=replies, sender=sender
        )
        return await run_in_threadpool(self._lines, [int(m["id"]) for m in public])

    def _expert_lines(self, conversation_id: str, escalation_id: int) -> list[TranscriptLine]:
        """What the experts said in this consultation and the user got (or will get)."""
        with self._sessions() as session:
            rows = session.scalars(
                select(ChatMessage)
                .where(
                    ChatMessage.conversation_id == conversation_id,
                    ChatMessage.sender == "expert",
                )
                .order_by(ChatMessage.id)
            )
            lines = [
                line_of(r) for r in rows if (r.payload or {}).get("escalation_id") == escalation_id
            ]
        return [x for x in lines if x.delivery is None or x.delivery.state != "failed"]

    def _drop_failed(self, conversation_id: str, escalation_id: int) -> None:
        """The expert's failed lines never go once the bot has the conversation back (the
        outbox would otherwise retry them, or release them at the user's next contact, after
        the bot's greeting and unknown to the bot's tracker); they stay "failed"."""
        with self._sessions() as session:
            rows = session.scalars(
                select(ChatMessage).where(
                    ChatMessage.conversation_id == conversation_id,
                    ChatMessage.sender == "expert",
                )
            )
            failed = [
                r.id
                for r in rows
                if (r.payload or {}).get("escalation_id") == escalation_id
                and ((r.payload or {}).get("delivery") or {}).get("state") == "failed"
            ]
            if failed:
                session.execute(
                    update(OutboxMessage)
                    .where(
                        OutboxMessage.chat_message_id.in_(failed),
                        OutboxMessage.status.in_(("pending", "held")),
                    )
                    .values(status="dropped")
                )
                session.commit()

    def _lines(self, ids: list[int]) -> list[TranscriptLine]:
        with self._sessions() as session:
            rows = session.scalars(
                select(ChatMessage).where(ChatMessage.id.in_(ids)).order_by(ChatMessage.id)
            )
            return [line_of(r) for r in rows]


if TYPE_CHECKING:
    from desk.consultations.ports import ConversationPort

    def _is_a_port(port: ChannelConversations) -> ConversationPort:  # checked by mypy
        return port
