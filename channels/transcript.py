"""One transcript per conversation, whatever the channel."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from desk.db import Base


class ChatMessage(Base):
    __tablename__ = "chat_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(80), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    sender: Mapped[str] = mapped_column(String(16))  # user | bot | expert
    text: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


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
