"""One transcript per conversation, whatever the channel, and its serialisers: the public shape
of its rows (:func:`public`) and a row as the expert console's line (:func:`line_of`)."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from channels.gateway import BotMessage
from channels.models import as_utc, utcnow
from desk.consultations.schemas import Delivery, TranscriptLine
from desk.db import Base
from desk.live import events


class ChatMessage(Base):
    __tablename__ = "chat_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(80), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    sender: Mapped[str] = mapped_column(String(16))  # user | bot | expert
    text: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


def public(row: ChatMessage) -> dict[str, Any]:
    """What every consumer (the turn's answer, the history, the stream, the outbox) gets."""
    payload = row.payload or {}
    data: dict[str, Any] = {
        "id": row.id,
        "sender": row.sender,
        "text": row.text,
        "buttons": payload.get("buttons", []),
    }
    if payload.get("custom"):
        data["custom"] = payload["custom"]
    created = as_utc(row.created_at)
    if created is not None:
        data["at"] = created.isoformat()
    return data


SENDERS = frozenset({"user", "bot", "expert", "system"})


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


def message_payload(message: BotMessage) -> dict[str, Any]:
    """How a bot (or expert) message's buttons and custom data are kept in a row."""
    payload: dict[str, Any] = {"buttons": message.buttons}
    if message.custom:
        payload["custom"] = message.custom
    return payload


def record(
    session: Session,
    *,
    conversation_id: str,
    channel: str,
    sender: str,
    text: str,
    payload: dict[str, Any] | None = None,
) -> ChatMessage:
    message = ChatMessage(
        conversation_id=conversation_id,
        channel=channel,
        sender=sender,
        text=text,
        payload=payload or {},
        created_at=utcnow(),  # known without a read back, so :func:`public` has it at once
    )
    session.add(message)
    return message


def history(session: Session, *, conversation_id: str, limit: int = 200) -> list[ChatMessage]:
    query = (
        select(ChatMessage)
        .where(ChatMessage.conversation_id == conversation_id)
        .order_by(ChatMessage.id.desc())
        .limit(limit)
    )
    return list(reversed(list(session.scalars(query))))


def latest_id(session: Session, *, conversation_id: str) -> int:
    query = select(func.max(ChatMessage.id)).where(ChatMessage.conversation_id == conversation_id)
    return int(session.scalar(query) or 0)


def replies_after(
    session: Session, *, conversation_id: str, cursor: int, limit: int = 100
) -> list[ChatMessage]:
    """What reached the user after row ``cursor`` (everything but the user's own words)."""
    query = (
        select(ChatMessage)
        .where(
            ChatMessage.conversation_id == conversation_id,
            ChatMessage.id > cursor,
            ChatMessage.sender != "user",
        )
        .order_by(ChatMessage.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def delivery(
    state: str, mode: str, errcode: int | None = None, errmsg: str | None = None
) -> dict[str, Any]:
    """How a line an expert sent reached (or will reach) the user, as its payload keeps it."""
    return {"state": state, "mode": mode, "errcode": errcode, "errmsg": errmsg}


def set_delivery(
    session: Session,
    *,
    message_id: int,
    state: str,
    errcode: int | None = None,
    errmsg: str | None = None,
) -> bool:
    """A sent line's new delivery state, and a console event when it changed, both in the
    caller's transaction (so the console never shows a state that was rolled back)."""
    row = session.get(ChatMessage, message_id)
    if row is None:
        return False
    payload = dict(row.payload or {})
    previous = payload.get("delivery") or {}
    new = delivery(state, str(previous.get("mode") or "send"), errcode, errmsg)
    if new == previous:
        return False
    payload["delivery"] = new
    row.payload = payload  # a new dict: plain JSON columns do not track changes inside
    events.publish(
        session,
        kind="delivery",
        escalation_id=payload.get("escalation_id"),
        conversation_id=row.conversation_id,
        data={"conversation_id": row.conversation_id, "message_id": row.id, "delivery": new},
    )
    return True
