"""Standards cited by entries: the list, and withdrawing one (its entries are held back)."""

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from desk.errors import NotFound
from desk.knowledge import service
from desk.knowledge.models import KnowledgeEntry
from knowledge.schema import SourceRef


@dataclass
class Citing:
    id: str
    kind: str
    title: str
    status: str
    under_review: bool


@dataclass
class Standard:
    code: str
    title: str
    effective: date | None
    withdrawn: date | None
    entries: list[Citing] = field(default_factory=list)


def cited(session: Session, *, today: date) -> list[Standard]:
    """Every cited source (by code), withdrawn ones first, with the entries citing it."""
    out: dict[str, Standard] = {}
    for row in session.scalars(select(KnowledgeEntry).order_by(KnowledgeEntry.id)):
        entry = service.entry_of(row)
        for source in entry.sources:
            standard = out.setdefault(
                source.code, Standard(source.code, source.title, source.effective, None)
            )
            if source.withdrawn and (
                standard.withdrawn is None or source.withdrawn < standard.withdrawn
            ):
                standard.withdrawn = source.withdrawn
            standard.entries.append(
                Citing(entry.id, entry.kind, entry.title, entry.status, entry.under_review(today))
            )
    return sorted(out.values(), key=lambda s: (s.withdrawn is None, s.code))


def withdraw(
    session: Session, *, code: str, withdrawn: date | None, actor: str, today: date
) -> list[str]:
    """Set (or clear) the withdrawal date of ``code`` in every entry citing it: one new version
    each, marked for review by that date; all or nothing. Returns the changed entries."""
    rows = [
        row
        for row in session.scalars(select(KnowledgeEntry).order_by(KnowledgeEntry.id))
        if any(s.get("code") == code for s in row.payload.get("sources") or [])
    ]
    if not rows:
        raise NotFound(f"没有条目引用标准 {code}。")
    changed: list[str] = []
    note = f"标准 {code} 废止于 {withdrawn}" if withdrawn else f"标准 {code} 取消废止"
    try:
        for row in rows:
            entry = service.entry_of(row)
            sources = [
                SourceRef.model_validate(s.model_dump() | {"withdrawn": withdrawn})
                if s.code == code
                else s
                for s in entry.sources
            ]
            review_due = min(entry.review_due, withdrawn) if withdrawn else entry.review_due
            data = entry.model_dump(mode="json") | {
                "sources": [s.model_dump(mode="json") for s in sources],
                "review_due": review_due.isoformat(),
            }
            before = row.version
            service.update_entry(
                session,
                entry_id=row.id,
                data=data,
                actor=actor,
                today=today,
                action="standard",
                note=note,
                commit=False,
            )
            if row.version != before:
                changed.append(row.id)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return changed
