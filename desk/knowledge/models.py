"""Tables of the curated knowledge: entries, their versions, publish jobs, and which FAQ
answered which question."""

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from desk.db import Base


class KnowledgeEntry(Base):
    """The current version of one entry; ``payload`` is the entry as the schema validates it."""

    __tablename__ = "knowledge_entries"

    id: Mapped[str] = mapped_column(String(60), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    status: Mapped[str] = mapped_column(String(12), index=True)
    title: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_by: Mapped[str] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class KnowledgeEntryVersion(Base):
    """One version of an entry: who, when, what changed (field by field) and the whole entry."""

    __tablename__ = "knowledge_entry_versions"
    __table_args__ = (UniqueConstraint("entry_id", "number", name="uq_knowledge_entry_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[str] = mapped_column(
        String(60), ForeignKey("knowledge_entries.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(20))  # seed, create, update, status, restore, …
    note: Mapped[str | None] = mapped_column(Text)
    changes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PublishJob(Base):
    """Bringing the index to the database's entries, in the background; the console polls it."""

    __tablename__ = "knowledge_publish_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12), index=True)  # queued running done failed
    entry_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    index_version: Mapped[str | None] = mapped_column(String(40))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class FaqAnswer(Base):
    """The bot answered a user's question with a FAQ entry: the real questions 猜你想问 ranks.

    One row per user message (its Rasa message id), so a retried report adds nothing; no text
    is kept, only which entry answered.
    """

    __tablename__ = "faq_answers"
    __table_args__ = (
        UniqueConstraint("conversation_id", "message_id", name="uq_faq_answer_message"),
        Index("ix_faq_answers_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(80))
    message_id: Mapped[str] = mapped_column(String(80))
    channel: Mapped[str] = mapped_column(String(16))
    faq_id: Mapped[str] = mapped_column(String(60), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
