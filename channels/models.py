"""What the channels keep in the database besides the transcript.

* ``chat_inbound``: every user message a channel accepted, the bot turn it is owed and how the
  result reached (or will reach) the user. Its unique ``dedupe_key`` is the cross-process guard
  against WeChat's retries; a row stays ``pending`` while the bot is down.
* ``wechat_outbox``: texts waiting for WeChat's customer-service message API (客服消息).
* ``wechat_contacts``: the 48-hour window and the quota spent in it, per follower.
"""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from desk.clock import as_utc as as_utc  # the channels' rows are stored in UTC too
from desk.db import Base


def utcnow() -> datetime:
    return datetime.now(UTC)


class InboundMessage(Base):
    __tablename__ = "chat_inbound"
    __table_args__ = (UniqueConstraint("dedupe_key", name="uq_chat_inbound_dedupe_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(80), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    dedupe_key: Mapped[str | None] = mapped_column(String(160), nullable=True)
    kind: Mapped[str] = mapped_column(String(24), default="text")
    bot_text: Mapped[str | None] = mapped_column(Text, nullable=True)  # None: no bot turn
    # pending (owed a bot turn) | processing (leased by a process) | done
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Set while Rasa may have taken the turn without our knowing the outcome (timeout, 5xx).
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # None (undecided) | passive (in the HTTP answer) | push (later) | queued (handed over)
    delivery: Mapped[str | None] = mapped_column(String(16), nullable=True)
    replies: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class OutboxMessage(Base):
    __tablename__ = "wechat_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    openid: Mapped[str] = mapped_column(String(64), index=True)
    inbound_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # the transcript line this sends (an expert's reply): its delivery state follows this row
    chat_message_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    content: Mapped[str] = mapped_column(Text)
    # pending | sent | held (window closed or quota spent: sent at the user's next contact)
    # | dropped (an expert's failed line when the consultation was handed back: never sent)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class WeChatContact(Base):
    __tablename__ = "wechat_contacts"

    openid: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_contact_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    window_sent: Mapped[int] = mapped_column(Integer, default=0)
    subscribed: Mapped[bool] = mapped_column(Boolean, default=True)
    # One sender per follower at a time, across processes (a lease, not a lock).
    sending_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
