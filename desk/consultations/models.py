"""Private notes on a consultation and knowledge drafts taken from an expert's answer."""

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from desk.db import Base

DRAFT_STATUSES = ("draft", "approved", "dismissed")


class ConsultationNote(Base):
    """A private note: visible to experts and staff in the console, never sent to anyone."""

    __tablename__ = "consultation_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id", ondelete="CASCADE"))
    conversation_id: Mapped[str] = mapped_column(String(80), index=True)
    author: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class KnowledgeDraft(Base):
    """A question and an expert's answer, waiting in the staff review queue to become an FAQ."""

    __tablename__ = "knowledge_drafts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="faq")
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    domain: Mapped[str | None] = mapped_column(String(24))
    escalation_id: Mapped[int | None] = mapped_column(Integer)
    author: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12), default="draft", index=True)
    decided_by: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
