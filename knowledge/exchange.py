"""Export entries to CSV / XLSX and import them back: the formats staff work in.

``export_entries`` writes one row per entry of one kind (columns: ``knowledge.tabular``).
``import_file`` reads such a file, checks every row and then the whole knowledge base as it
would be after the import; it reports every bad row with its line and reason, and writes
the YAML (atomically, ``knowledge.yaml_writer``) only when nothing is wrong. Rows update
the entries with the same id (the version goes up when the content changed) or add new
ones; entries absent from the file are kept.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pydantic import ValidationError

from knowledge.constants import KIND_LABELS
from knowledge.schema import Entry, parse_entry
from knowledge.store import DATA_DIR, Located, describe_error, read_entries
from knowledge.tabular import Cell, CellError, columns, decode, encode, header_keys, kind_code
from knowledge.validate import check_all
from knowledge.yaml_writer import WriteError, file_mode, spliced, write_files

FORMATS = ("csv", "xlsx")
DEFAULT_FILES = {kind: f"{kind}s.yaml" for kind in KIND_LABELS}
Row = tuple[int, list[Cell]]  # (line as a spreadsheet shows it, header = 1; cells)


class ExchangeError(RuntimeError):
    """The file cannot be read or written at all (format, header, I/O)."""


@dataclass(frozen=True)
class RowProblem:
    line: int  # 0: the file as a whole
    entry_id: str
    reason: str

    def __str__(self) -> str:
        where = f"第 {self.line} 行" if self.line else "文件"
        who = f"（{self.entry_id}）" if self.entry_id else ""
        return f"{where}{who}：{self.reason}"


@dataclass
class ImportResult:
    kind: str | None = None
    rows: int = 0
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[RowProblem] = field(default_factory=list)
    warnings: list[RowProblem] = field(default_factory=list)
    written: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


# ── files ────────────────────────────────────────────────────────────────────────────────


def _format(path: Path) -> str:
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ExchangeError(f"不支持的文件格式 {path.suffix or '（无扩展名）'}，请用 .csv 或 .xlsx")
    return fmt


def read_rows(path: Path) -> tuple[list[str], list[Row]]:
    """Header texts and the non-blank data rows of a CSV (UTF-8, BOM optional) or XLSX."""
    try:
        if _format(path) == "csv":
            with path.open(encoding="utf-8-sig", newline="") as handle:
                table: list[list[Cell]] = [list(r) for r in csv.reader(handle)]
        else:
            from openpyxl import load_workbook

            book = load_workbook(path, read_only=True, data_only=True)
            try:
                table = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
            finally:
                book.close()
    except (OSError, UnicodeDecodeError, csv.Error, ValueError, KeyError) as exc:
        raise ExchangeError(f"无法读取 {path.name}：{exc}") from exc
    if not table:
        raise ExchangeError(f"{path.name} 是空文件（第 1 行应为表头）")
    headers = ["" if h is None else str(h).strip() for h in table[0]]
    rows = [
        (number, cells)
        for number, cells in enumerate(table[1:], start=2)
        if any(c is not None and str(c).strip() for c in cells)
    ]
    return headers, rows


def _atomic(out: Path, write: object) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    os.close(handle)
    try:
        write(Path(name))  # type: ignore[operator]
        os.chmod(name, file_mode(out))
        os.replace(name, out)
    finally:
        Path(name).unlink(missing_ok=True)


def export_entries(entries: list[Entry], kind: str, out: Path) -> int:
    """Write the entries of ``kind`` to ``out`` (.csv or .xlsx); returns the row count."""
    fmt = _format(out)
    cols = columns(kind)
    try:
        rows = [encode(e) for e in entries if e.kind == kind]
    except CellError as exc:
        raise ExchangeError(str(exc)) from exc
    labels = [c.label for c in cols]
    table = [[row[c.key] for c in cols] for row in rows]

    def write_csv(path: Path) -> None:
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(labels)
            writer.writerows(table)

    def write_xlsx(path: Path) -> None:
        from openpyxl import Workbook
        from openpyxl.styles import Alignment, Font

        book = Workbook()
        sheet = book.active
        sheet.title = KIND_LABELS[kind]
        sheet.append(labels)
        for cells in table:
            sheet.append(cells)
        wrap = Alignment(wrap_text=True, vertical="top")
        for line in sheet.iter_rows():
            for cell in line:
                cell.number_format = "@"  # text: Excel must not turn 6.1 or dates into numbers
                cell.alignment = wrap
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "C2"
        book.save(path)

    _atomic(out, write_csv if fmt == "csv" else write_xlsx)
    return len(rows)


# ── import ───────────────────────────────────────────────────────────────────────────────


def _file_kind(headers: list[str], rows: list[Row], kind: str | None) -> str:
    if kind:
        return kind
    column = next((n for n, h in enumerate(headers) if h in ("类别", "kind")), -1)
    for _, cells in rows:
        code = kind_code(str(cells[column] or "")) if 0 <= column < len(cells) else None
        if code:
            return code
    raise ExchangeError("无法确定条目类别：请在“类别”列填写，或用 --kind 指定")


def _parse_rows(
    kind: str, keys: list[str | None], rows: list[Row], result: ImportResult
) -> Iterator[tuple[int, Entry]]:
    for line, cells in rows:
        by_key = {k: c for k, c in zip(keys, cells, strict=False) if k}
        raw, cell_errors = decode(kind, by_key)
        entry_id = str(raw.get("id") or "")
        row_kind = kind_code(str(by_key.get("kind") or "")) if by_key.get("kind") else kind
        problems = [f"类别应为 {kind}（{KIND_LABELS[kind]}）"] if row_kind != kind else []
        problems += cell_errors.values()
        try:
            entry = parse_entry(raw)
        except ValidationError as exc:
            problems += [
                describe_error(e) for e in exc.errors() if _field(e["loc"]) not in cell_errors
            ]
            entry = None
        result.errors += [RowProblem(line, entry_id, p) for p in dict.fromkeys(problems)]
        if entry is not None and not problems:
            yield line, entry


def _field(loc: tuple[int | str, ...]) -> str:
    """The top-level field of a pydantic error location (after the union's kind tag)."""
    parts = [str(p) for p in loc if not isinstance(p, int)]
    return parts[1] if len(parts) > 1 and parts[0] in KIND_LABELS else (parts or [""])[0]


def _dump(entry: Entry) -> dict[str, object]:
    return entry.model_dump(mode="json", exclude={"version"})


@dataclass
class ImportPlan:
    """What an import would do: its result (rows, problems) and the knowledge after it."""

    result: ImportResult
    merged: list[Located] = field(default_factory=list)
    changed: dict[str, list[Entry]] = field(default_factory=dict)  # by file
    added: dict[str, list[Entry]] = field(default_factory=dict)  # by file

    def entries(self) -> list[Entry]:
        """The entries the import creates or changes (versions already raised)."""
        return [e for group in (*self.changed.values(), *self.added.values()) for e in group]


def plan_import(
    path: Path,
    *,
    existing: list[Located],
    kind: str | None = None,
    today: date | None = None,
    real_data: bool = False,
) -> ImportPlan:
    """Check ``path`` row by row and as a whole against ``existing``; change nothing."""
    today = today or date.today()
    result = ImportResult()
    plan = ImportPlan(result)
    try:
        headers, rows = read_rows(Path(path))
        result.kind = kind = _file_kind(headers, rows, kind)
    except ExchangeError as exc:
        result.errors.append(RowProblem(0, "", str(exc)))
        return plan
    result.rows = len(rows)
    keys, unknown = header_keys(kind, headers)
    if unknown or "id" not in keys:
        reason = f"未知的表头 {'、'.join(unknown)}" if unknown else "缺少“编号”列"
        result.errors.append(RowProblem(1, "", reason))
        return plan
    imported: dict[str, tuple[int, Entry]] = {}
    for line, entry in _parse_rows(kind, keys, rows, result):
        if entry.id in imported:
            first = imported[entry.id][0]
            result.errors.append(RowProblem(line, entry.id, f"编号与第 {first} 行重复"))
        else:
            imported[entry.id] = (line, entry)

    existing_ids = {item.entry.id for item in existing}
    merged, changed, added = plan.merged, plan.changed, plan.added
    for item in existing:
        new = imported.get(item.entry.id, (0, None))[1]
        if new is None:
            merged.append(item)
            continue
        old = item.entry
        if _dump(new) == _dump(old) and new.version <= old.version:
            result.unchanged.append(new.id)
            merged.append(item)
            continue
        if new.version <= old.version:
            new = new.model_copy(update={"version": old.version + 1})
        result.updated.append(new.id)
        changed.setdefault(item.file, []).append(new)
        merged.append(Located(new, item.file))
    for entry_id, (_, entry) in imported.items():
        if entry_id not in existing_ids:
            target = DEFAULT_FILES[entry.kind]
            result.created.append(entry_id)
            added.setdefault(target, []).append(entry)
            merged.append(Located(entry, target))

    lines = {entry_id: line for entry_id, (line, _) in imported.items()}
    for problem in check_all(merged, today=today, real_data=real_data):
        row = RowProblem(lines.get(problem.entry_id, 0), problem.entry_id, problem.reason)
        if problem.level == "error":
            result.errors.append(row)
        elif problem.entry_id in lines:
            result.warnings.append(row)
    return plan


def import_file(
    path: Path,
    *,
    root: Path | None = None,
    kind: str | None = None,
    today: date | None = None,
    real_data: bool = False,
    dry_run: bool = False,
) -> ImportResult:
    """Check ``path`` row by row and as a whole; write the YAML only if nothing is wrong."""
    root = DATA_DIR if root is None else Path(root)
    located, problems = read_entries(root)
    plan = plan_import(path, existing=located, kind=kind, today=today, real_data=real_data)
    result = plan.result
    if result.kind is not None:
        result.errors[:0] = [RowProblem(0, p.entry_id, f"现有数据 {p}") for p in problems]
    changed, added, merged = plan.changed, plan.added, plan.merged
    if result.errors or dry_run or not (changed or added):
        return result
    texts: dict[Path, str] = {}
    expected: dict[Path, list[Entry]] = {}
    for name in set(changed) | set(added):
        file = root / name
        text = file.read_text("utf-8") if file.exists() else ""
        texts[file] = spliced(text, changed.get(name, []), added.get(name, []))
        expected[file] = [item.entry for item in merged if item.file == name]
    try:
        write_files(texts, expected)
    except (WriteError, OSError) as exc:
        result.errors.append(RowProblem(0, "", str(exc)))
        return result
    result.written = True
    return result
