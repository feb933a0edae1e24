"""Standards: the standards table (kind ``standard``) and the standards entries cite, in one list;
withdrawing one holds its citing entries back and records it in the table row."""

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from desk.errors import NotFound
from desk.knowledge import service
from desk.knowledge.models import KnowledgeEntry
from knowledge.schema import SourceRef, standard_key
from knowledge.schema import Standard as TableRow


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
    validity: str | None = None  # the table's status today (None: not in the table)
    replaced_by: str | None = None
    entry_id: str | None = None  # the table row


def cited(session: Session, *, today: date) -> list[Standard]:
    """Every standard of the table and every cited source (by code), withdrawn ones first, with
    the entries citing it."""
    out: dict[str, Standard] = {}
    rows = list(session.scalars(select(KnowledgeEntry).order_by(KnowledgeEntry.id)))
    for row in rows:
        table = service.entry_of(row)
        if isinstance(table, TableRow) and table.status != "withdrawn":
            out[table.key] = Standard(
                table.code,
                table.title,
                table.effective,
                table.withdrawn,
                validity=table.validity_on(today),
                replaced_by=table.replaced_by,
                entry_id=table.id,
            )
    for row in rows:
        entry = service.entry_of(row)
        for source in entry.sources:
            standard = out.setdefault(
                standard_key(source.code),
                Standard(source.code, source.title, source.effective, None),
            )
            if source.withdrawn and (
                standard.withdrawn is None or source.withdrawn < standard.withdrawn
            ):
                standard.withdrawn = source.withdrawn
            standard.entries.append(
                Citing(entry.id, entry.kind, entry.title, entry.status, entry.under_review(today))
            )
    return sorted(out.values(), key=lambda s: (s.withdrawn is None, s.code))


def _not_withdrawn(payload: dict[str, object], today: date) -> str:
    effective = payload.get("effective")
    return "即将实施" if effective and str(effective) > today.isoformat() else "现行"


def withdraw(
    session: Session, *, code: str, withdrawn: date | None, actor: str, today: date
) -> list[str]:
    """Set (or clear) the withdrawal date of ``code`` in every entry citing it: one new version
    each, marked for review by that date; all or nothing. Returns the changed entries."""
    every = list(session.scalars(select(KnowledgeEntry).order_by(KnowledgeEntry.id)))
    rows = [
        row for row in every if any(s.get("code") == code for s in row.payload.get("sources") or [])
    ]
    tables = [
        row
        for row in every
        if row.kind == "standard"
        and standard_key(str(row.payload.get("code"))) == standard_key(code)
    ]
    if not rows and not tables:
        raise NotFound(f"标准表中没有 {code}，也没有条目引用它。")
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
        for row in tables:  # the table row records it too
            data = dict(row.payload) | {
                "withdrawn": withdrawn.isoformat() if withdrawn else None,
                "validity": "废止" if withdrawn else _not_withdrawn(row.payload, today),
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
