"""Audit log: who changed what on demands, complaints and knowledge, and when."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from desk.db import Base


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor: Mapped[str] = mapped_column(String(40))  # username, or "bot"
    action: Mapped[str] = mapped_column(String(40))  # e.g. demand.create, complaint.transition
    subject: Mapped[str] = mapped_column(String(60), index=True)  # e.g. XQ20261123-0001
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # never raw personal data
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    subject: str,
    details: dict[str, Any] | None = None,
) -> None:
    """Add an entry to the caller's transaction (it commits with the change it describes)."""
    session.add(AuditEntry(actor=actor, action=action, subject=subject, details=details or {}))


def entries_for(session: Session, *, subject: str) -> list[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.subject == subject).order_by(AuditEntry.id)
    return list(session.scalars(query))
