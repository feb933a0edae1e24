"""Entries in the database, each change a new version: seed, list, save, status, restore.

Keyword-only functions, no HTTP. ``payload`` is an entry exactly as ``knowledge.schema``
validates it; its ``version`` is the entry's version number.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from desk import audit
from desk.errors import DeskError, InvalidInput, NotFound
from desk.knowledge.changes import diff, summary
from desk.knowledge.models import KnowledgeEntry, KnowledgeEntryVersion
from knowledge.schema import Entry, parse_entry
from knowledge.store import KnowledgeBase, Located, describe_error, load_knowledge
from knowledge.validate import (
    check_ids,
    check_platform_sections,
    check_references,
    check_review,
    check_text,
)

SEED_ACTOR = "seed"
TRANSITIONS: dict[str, frozenset[str]] = {
    "draft": frozenset({"published"}),
    "published": frozenset({"withdrawn"}),
    "withdrawn": frozenset({"draft", "published"}),
}
STATUS_LABELS = {"draft": "草稿", "published": "已发布", "withdrawn": "已撤下"}


class EntryInvalid(DeskError):
    """The entry does not pass the schema or the knowledge base's rules; one item per field."""

    code = "entry_invalid"
    status = 422

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("条目内容有误：" + "；".join(e["message"] for e in errors))
        self.errors = errors


class VersionConflict(DeskError):
    code = "version_conflict"
    status = 409


class TransitionRefused(DeskError):
    code = "transition_refused"
    status = 409


@dataclass(frozen=True)
class ListFilters:
    kind: str | None = None
    status: str | None = None
    domain: str | None = None
    region: str | None = None
    source: str | None = None  # a cited standard's code
    q: str = ""


# ── seed ─────────────────────────────────────────────────────────────────────────────────


# Kinds added after a database was first seeded: an install that has none of them takes the
# packaged ones (once; staff curate them from then on).
LATER_KINDS = ("standard",)


def ensure_seeded(session: Session) -> int:
    """A fresh install (no entry yet) takes the packaged YAML as version 1 of every entry; an
    older install takes the packaged entries of a kind it has none of (the standards table)."""
    if session.scalar(select(KnowledgeEntry.id).limit(1)) is not None:
        return _seed_later_kinds(session)
    entries = list(load_knowledge().entries())
    try:
        for entry in entries:
            _insert(session, entry, actor=SEED_ACTOR, action="seed", note="首次安装载入示例知识")
        session.commit()
    except IntegrityError:  # another process seeded at the same moment
        session.rollback()
        return 0
    return len(entries)


def _seed_later_kinds(session: Session) -> int:
    present = set(
        session.scalars(
            select(KnowledgeEntry.kind).where(KnowledgeEntry.kind.in_(LATER_KINDS)).distinct()
        )
    )
    missing = [kind for kind in LATER_KINDS if kind not in present]
    if not missing:
        return 0
    entries = [e for e in load_knowledge().entries() if e.kind in missing]
    try:
        for entry in entries:
            _insert(session, entry, actor=SEED_ACTOR, action="seed", note="载入示例标准表")
        session.commit()
    except IntegrityError:  # another process seeded at the same moment
        session.rollback()
        return 0
    return len(entries)


# ── validation ───────────────────────────────────────────────────────────────────────────


def _field(loc: tuple[int | str, ...]) -> str:
    parts = list(loc)
    if parts and parts[0] in ("service", "institution", "station", "faq", "standard"):
        parts = parts[1:]
    return ".".join(str(p) for p in parts) or "kind"


def validate_payload(data: dict[str, Any]) -> Entry:
    """The typed entry, or ``EntryInvalid`` with a Chinese reason per field."""
    try:
        return parse_entry(data)
    except ValidationError as exc:
        raise EntryInvalid(
            [{"field": _field(tuple(e["loc"])), "message": describe_error(e)} for e in exc.errors()]
        ) from exc


def _check_whole(session: Session, entry: Entry, *, today: date) -> None:
    """The rules of ``knowledge.validate`` over the knowledge base as it would be."""
    others = [
        Located(parse_entry(row.payload), "db")
        for row in session.scalars(select(KnowledgeEntry).where(KnowledgeEntry.id != entry.id))
    ]
    located = [*others, Located(entry, "db")]
    problems = [
        p
        for check in (
            check_ids([located[-1]]),
            check_references(located),
            check_text([located[-1]]),
            check_review([located[-1]], today),
            check_platform_sections([located[-1]]),  # never a screen the platform lacks
        )
        for p in check
        if p.level == "error" and p.entry_id == entry.id
    ]
    if problems:
        raise EntryInvalid([{"field": "", "message": p.reason} for p in problems])


# ── reading ──────────────────────────────────────────────────────────────────────────────


def get_row(session: Session, *, entry_id: str) -> KnowledgeEntry:
    row = session.get(KnowledgeEntry, entry_id)
    if row is None:
        raise NotFound(f"没有编号为 {entry_id} 的知识条目。")
    return row


def entry_of(row: KnowledgeEntry) -> Entry:
    return parse_entry(row.payload)


def _matches(row: KnowledgeEntry, filters: ListFilters) -> bool:
    payload = row.payload
    if filters.domain:
        domains = [payload.get("domain")] if row.kind == "service" else []
        if row.kind == "institution":
            domains = list(entry_of(row).domains)  # type: ignore[union-attr]
        if filters.domain not in domains:
            return False
    if filters.region and filters.region not in str(payload.get("region") or ""):
        return False
    if filters.source and not any(
        s.get("code") == filters.source for s in payload.get("sources") or []
    ):
        return False
    if filters.q:
        needle = filters.q.lower()
        haystack = " ".join(
            str(payload.get(k) or "") for k in ("id", "title", "answer", "description")
        )
        haystack += " " + " ".join(payload.get("keywords") or [])
        haystack += " " + " ".join(payload.get("variants") or [])
        if needle not in haystack.lower():
            return False
    return True


def list_rows(
    session: Session, *, filters: ListFilters, offset: int = 0, limit: int = 20
) -> tuple[list[KnowledgeEntry], int]:
    """One page of entries (by kind, then id) and how many match in all."""
    stmt = select(KnowledgeEntry)
    if filters.kind:
        stmt = stmt.where(KnowledgeEntry.kind == filters.kind)
    if filters.status:
        stmt = stmt.where(KnowledgeEntry.status == filters.status)
    rows = list(session.scalars(stmt.order_by(KnowledgeEntry.kind, KnowledgeEntry.id)))
    # JSON fields filtered here: the same on SQLite and PostgreSQL, ample for a few thousand
    matched = [row for row in rows if _matches(row, filters)]
    return matched[offset : offset + limit], len(matched)


def knowledge_of(session: Session) -> KnowledgeBase:
    """Every entry of the database as one knowledge base (all statuses)."""
    rows = session.scalars(select(KnowledgeEntry).order_by(KnowledgeEntry.id))
    return KnowledgeBase.from_entries(entry_of(row) for row in rows)


def history(session: Session, *, entry_id: str) -> list[KnowledgeEntryVersion]:
    get_row(session, entry_id=entry_id)
    stmt = (
        select(KnowledgeEntryVersion)
        .where(KnowledgeEntryVersion.entry_id == entry_id)
        .order_by(KnowledgeEntryVersion.number.desc())
    )
    return list(session.scalars(stmt))


def count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(KnowledgeEntry)) or 0)


# ── writing ──────────────────────────────────────────────────────────────────────────────


def _dump(entry: Entry) -> dict[str, Any]:
    return entry.model_dump(mode="json")


def _insert(session: Session, entry: Entry, *, actor: str, action: str, note: str | None) -> None:
    payload = _dump(entry)
    session.add(
        KnowledgeEntry(
            id=entry.id,
            kind=entry.kind,
            status=entry.status,
            title=entry.title,
            version=entry.version,
            payload=payload,
            updated_by=actor,
        )
    )
    session.flush()  # the entry before its versions (foreign key)
    session.add(
        KnowledgeEntryVersion(
            entry_id=entry.id,
            number=entry.version,
            actor=actor,
            action=action,
            note=note,
            changes=diff(entry.kind, None, payload) if action != "seed" else [],
            payload=payload,
        )
    )


def _new_version(
    session: Session,
    row: KnowledgeEntry,
    entry: Entry,
    *,
    actor: str,
    action: str,
    note: str | None = None,
) -> KnowledgeEntry:
    number = row.version + 1
    entry = entry.model_copy(update={"version": number})
    payload = _dump(entry)
    changes = diff(row.kind, row.payload, payload)
    session.add(
        KnowledgeEntryVersion(
            entry_id=row.id,
            number=number,
            actor=actor,
            action=action,
            note=note,
            changes=changes,
            payload=payload,
        )
    )
    row.version, row.payload, row.status, row.title = number, payload, entry.status, entry.title
    row.updated_by, row.updated_at = actor, datetime.now(UTC)
    audit.record(
        session,
        actor=actor,
        action=f"knowledge.{action}",
        subject=row.id,
        details={"version": number, "fields": [c["field"] for c in changes], "note": note},
    )
    return row


def create_entry(
    session: Session, *, data: dict[str, Any], actor: str, today: date, action: str = "create"
) -> KnowledgeEntry:
    entry = validate_payload({**data, "version": 1})
    if session.get(KnowledgeEntry, entry.id) is not None:
        raise EntryInvalid([{"field": "id", "message": f"编号 {entry.id} 已被使用"}])
    _check_whole(session, entry, today=today)
    _insert(session, entry, actor=actor, action=action, note=None)
    audit.record(
        session,
        actor=actor,
        action=f"knowledge.{action}",
        subject=entry.id,
        details={"version": 1, "kind": entry.kind},
    )
    session.commit()
    return get_row(session, entry_id=entry.id)


def same_content(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Equal entries but for their version numbers."""
    return {k: v for k, v in a.items() if k != "version"} == {
        k: v for k, v in b.items() if k != "version"
    }


def is_pending(row: KnowledgeEntry, served: Entry | None) -> bool:
    """The database holds what users are not served yet (a never-published draft is not)."""
    if served is None:
        return row.status == "published"
    return not same_content(served.model_dump(mode="json"), row.payload)


def _same(row: KnowledgeEntry, entry: Entry) -> bool:
    return same_content(_dump(entry), row.payload)


def update_entry(
    session: Session,
    *,
    entry_id: str,
    data: dict[str, Any],
    actor: str,
    today: date,
    expected_version: int | None = None,
    action: str = "update",
    note: str | None = None,
    commit: bool = True,
) -> KnowledgeEntry:
    """A new version with ``data``; nothing when it equals the current one (a second click)."""
    row = get_row(session, entry_id=entry_id)
    entry = validate_payload({**data, "id": entry_id, "version": row.version})
    if entry.kind != row.kind:
        raise EntryInvalid([{"field": "kind", "message": "条目类别不能修改"}])
    if _same(row, entry):
        return row
    if expected_version is not None and expected_version != row.version:
        raise VersionConflict(
            f"该条目已被 {row.updated_by} 改为第 {row.version} 版，请刷新后再修改。"
        )
    if entry.status != row.status and entry.status not in TRANSITIONS[row.status]:
        raise TransitionRefused(_refusal(row.status, entry.status))
    _check_whole(session, entry, today=today)
    _new_version(session, row, entry, actor=actor, action=action, note=note)
    if commit:
        session.commit()
    return row


def _refusal(current: str, wanted: str) -> str:
    allowed = "、".join(STATUS_LABELS[s] for s in sorted(TRANSITIONS[current]))
    return (
        f"“{STATUS_LABELS[current]}”的条目不能直接改为“{STATUS_LABELS.get(wanted, wanted)}”"
        f"（可改为：{allowed}）。"
    )


def set_status(
    session: Session, *, entry_id: str, status: str, actor: str, today: date, note: str | None
) -> KnowledgeEntry:
    row = get_row(session, entry_id=entry_id)
    if status == row.status:
        return row  # a second click changes nothing
    if status not in TRANSITIONS[row.status]:
        raise TransitionRefused(_refusal(row.status, status))
    entry = entry_of(row).model_copy(update={"status": status})
    if status == "published":
        _check_whole(session, entry, today=today)
    _new_version(session, row, entry, actor=actor, action="status", note=note)
    session.commit()
    return row


def restore(
    session: Session, *, entry_id: str, number: int, actor: str, today: date
) -> KnowledgeEntry:
    """A new version equal to version ``number`` (the history is never rewritten)."""
    row = get_row(session, entry_id=entry_id)
    old = session.scalar(
        select(KnowledgeEntryVersion).where(
            KnowledgeEntryVersion.entry_id == entry_id, KnowledgeEntryVersion.number == number
        )
    )
    if old is None:
        raise NotFound(f"条目 {entry_id} 没有第 {number} 版。")
    entry = parse_entry({**old.payload, "version": row.version})
    if _same(row, entry):
        raise InvalidInput(f"当前内容与第 {number} 版相同，无需恢复。", code="nothing_to_restore")
    _check_whole(session, entry, today=today)
    _new_version(session, row, entry, actor=actor, action="restore", note=f"恢复为第 {number} 版")
    session.commit()
    return row


def save_many(
    session: Session, *, entries: Iterable[Entry], actor: str, action: str, note: str | None
) -> list[str]:
    """Create or update several entries in one transaction (the caller checked the whole)."""
    changed: list[str] = []
    for entry in entries:
        row = session.get(KnowledgeEntry, entry.id)
        if row is None:
            first = entry.model_copy(update={"version": 1})
            _insert(session, first, actor=actor, action=action, note=note)
            details = {"version": 1, "kind": entry.kind}
            audit.record(
                session, actor=actor, action=f"knowledge.{action}", subject=entry.id,
                details=details,
            )  # fmt: skip
            changed.append(entry.id)
        elif not _same(row, entry):
            _new_version(session, row, entry, actor=actor, action=action, note=note)
            changed.append(entry.id)
    session.commit()
    return changed


def change_summary(version: KnowledgeEntryVersion) -> str:
    if version.action == "seed":
        return "首次安装载入"
    if version.action == "create":
        return "新建条目"
    return summary(version.changes)
