"""Audit log: who did what, to which subject, and when — logins, accounts, demands, complaints,
knowledge and the rest of the desk in one table, read by admins (desk/audit/router.py).

Subjects name what an entry is about: a case number (XQ20261123-0001), ``user:<username>`` for a
console account, ``login:<name tried>`` for a failed login under a name that is no account.
Details never hold personal data (passwords never; mobiles and codes masked).
"""

from dataclasses import dataclass
from datetime import UTC, datetime
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
    at: datetime | None = None,
) -> None:
    """Add an entry to the caller's transaction (it commits with the change it describes).

    ``at`` is stored in UTC (SQLite keeps a datetime's fields and drops its zone); without it the
    database's clock (also UTC) stamps the entry."""
    entry = AuditEntry(actor=actor[:40], action=action, subject=subject[:60], details=details or {})
    if at is not None:
        entry.at = at.astimezone(UTC)
    session.add(entry)


def entries_for(session: Session, *, subject: str) -> list[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.subject == subject).order_by(AuditEntry.id)
    return list(session.scalars(query))


@dataclass(frozen=True)
class AuditFilter:
    """What an admin narrows the log to; every field optional."""

    actor: str | None = None
    action: str | None = None  # exact (auth.login) or a prefix ending in '.' (auth.)
    subject: str | None = None  # a part of the subject (case number, user:name)
    since: datetime | None = None
    until: datetime | None = None  # exclusive


def search(
    session: Session, *, where: AuditFilter, offset: int = 0, limit: int = 50
) -> tuple[list[AuditEntry], int]:
    """The matching entries, newest first, one page of them; and how many match in all.

    Newest is the last written: some entries carry the database's clock (whole seconds on
    SQLite), others the app's, so ``at`` alone would shuffle entries of the same second."""
    conditions = []
    if where.actor:
        conditions.append(AuditEntry.actor == where.actor)
    if where.action:
        if where.action.endswith("."):
            conditions.append(AuditEntry.action.startswith(where.action, autoescape=True))
        else:
            conditions.append(AuditEntry.action == where.action)
    if where.subject:
        conditions.append(AuditEntry.subject.contains(where.subject, autoescape=True))
    if where.since:
        conditions.append(AuditEntry.at >= where.since.astimezone(UTC))
    if where.until:
        conditions.append(AuditEntry.at < where.until.astimezone(UTC))
    total = session.scalar(select(func.count()).select_from(AuditEntry).where(*conditions)) or 0
    query = (
        select(AuditEntry)
        .where(*conditions)
        .order_by(AuditEntry.id.desc())  # the order they were written in
        .offset(offset)
        .limit(limit)
    )
    return list(session.scalars(query)), int(total)
