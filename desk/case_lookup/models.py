"""Cases found from another conversation (§5.1 d): the conversation linked to the case, and the
attempts made, so that numbers cannot be guessed."""

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Integer, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from desk.db import Base


class CaseLink(Base):
    """A conversation that proved it holds a case (its number plus the mobile that submitted
    it, or the anonymous complaint's follow-up code): it sees the case and gets its news."""

    __tablename__ = "case_links"
    __table_args__ = (UniqueConstraint("number", "conversation_id", name="uq_case_links"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), index=True)  # XQ… / TS…
    conversation_id: Mapped[str] = mapped_column(String(80), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CaseLookupAttempt(Base):
    """One try to find a case by its number from a conversation; failures are counted."""

    __tablename__ = "case_lookup_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(80), index=True)
    matched: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
