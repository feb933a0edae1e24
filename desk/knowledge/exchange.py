"""Import (preview, then all or nothing) and export of entries as XLSX or CSV, on the
database; the rows and rules are those of ``knowledge.exchange`` and ``knowledge.tabular``."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from desk.errors import InvalidInput
from desk.knowledge import service
from desk.knowledge.models import KnowledgeEntry
from knowledge.exchange import DEFAULT_FILES, FORMATS, ExchangeError, export_entries, plan_import
from knowledge.schema import Entry
from knowledge.store import Located

MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class ImportOutcome:
    kind: str | None
    rows: int
    created: list[str]
    updated: list[str]
    unchanged: list[str]
    errors: list[dict[str, Any]]
    warnings: list[dict[str, Any]]
    committed: bool


def _suffix(filename: str | None) -> str:
    suffix = Path(filename or "").suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise InvalidInput("请上传 .xlsx 或 .csv 文件。", code="format_unsupported")
    return suffix


def _existing(session: Session) -> list[Located]:
    rows = session.scalars(select(KnowledgeEntry).order_by(KnowledgeEntry.kind, KnowledgeEntry.id))
    return [Located(entry := service.entry_of(r), DEFAULT_FILES[entry.kind]) for r in rows]


def _problems(items: list[Any]) -> list[dict[str, Any]]:
    return [
        {"line": p.line, "entry_id": p.entry_id, "reason": p.reason, "text": str(p)} for p in items
    ]


def import_table(
    session: Session,
    *,
    filename: str | None,
    content: bytes,
    actor: str,
    today: date,
    commit: bool,
) -> ImportOutcome:
    """Every bad row with its reason; with ``commit`` and no bad row, all rows saved at once
    (each changed entry a new version), else nothing."""
    suffix = _suffix(filename)
    with tempfile.TemporaryDirectory(prefix="qclinic-import-") as folder:
        path = Path(folder) / f"upload.{suffix}"
        path.write_bytes(content)
        # staff import real contacts and certificates: the sample's placeholder rule is lifted
        plan = plan_import(path, existing=_existing(session), today=today, real_data=True)
    result = plan.result
    committed = False
    if commit and result.ok and plan.entries():
        service.save_many(
            session, entries=plan.entries(), actor=actor, action="import", note=filename
        )
        committed = True
    return ImportOutcome(
        kind=result.kind,
        rows=result.rows,
        created=result.created,
        updated=result.updated,
        unchanged=result.unchanged,
        errors=_problems(result.errors),
        warnings=_problems(result.warnings),
        committed=committed,
    )


def export_table(entries: list[Entry], *, kind: str, fmt: str) -> bytes:
    """The entries of ``kind`` as one XLSX or CSV file (the import's own columns)."""
    if fmt not in FORMATS:
        raise InvalidInput("导出格式应为 xlsx 或 csv。", code="format_unsupported")
    with tempfile.TemporaryDirectory(prefix="qclinic-export-") as folder:
        path = Path(folder) / f"export.{fmt}"
        try:
            export_entries(entries, kind, path)
        except ExchangeError as exc:
            raise InvalidInput(str(exc), code="export_failed") from exc
        return path.read_bytes()
