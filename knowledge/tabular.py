"""One entry ⇄ one spreadsheet row: the columns staff see in CSV and XLSX files.

Every kind has its own columns (``columns(kind)``); headers are Chinese labels, and an
import also accepts the English field name (``title``, ``contact.phone`` …). Cells hold
text; list fields are joined as documented in knowledge/README.md:

* a plain list (keywords, materials, variants …): one item per line inside the cell;
* ``sources``: one source per line, ``编号 | 名称 | 实施日期 | 废止日期`` (dates optional);
* ``qualifications``: one per line, ``类别 | 编号 | 范围1；范围2``;
* ``capabilities``: one per line, ``服务编号 | 产品1；产品2 | 项目1；项目2 | 标准1；标准2``.

``encode`` refuses an item that would not come back unchanged (an item holding a line
break, ``|`` or ``；``), so an export always imports back to the same entries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from knowledge.constants import DOMAIN_LABELS, KIND_LABELS, KINDS
from knowledge.schema import EntryBase

PART = " | "
INNER = "；"
Cell = str | int | float | date | datetime | None


class CellError(ValueError):
    """A cell that cannot be read (its message is Chinese and names no row)."""


@dataclass(frozen=True)
class Column:
    key: str  # field name; "contact.phone" for a nested field
    label: str  # header staff see
    # text | int | float | date | list | sources | qualifications | capabilities
    codec: str = "text"


COMMON_HEAD = (
    Column("kind", "类别"),
    Column("id", "编号"),
    Column("title", "标题"),
    Column("version", "版本", "int"),
    Column("status", "状态"),
    Column("owner", "负责人"),
    Column("review_due", "复审日期", "date"),
)
COMMON_TAIL = (Column("sources", "依据", "sources"), Column("keywords", "关键词", "list"))
CONTACT = (
    Column("contact.phone", "联系电话"),
    Column("contact.email", "联系邮箱"),
    Column("contact.person", "联系人"),
)
_BY_KIND: dict[str, tuple[Column, ...]] = {
    "service": (
        Column("domain", "领域"),
        Column("clause", "条款"),
        Column("description", "标准原文"),
        Column("acceptance_conditions", "受理条件", "list"),
        Column("materials", "办事材料", "list"),
        Column("process", "服务流程", "list"),
        Column("commitment", "服务承诺"),
        Column("example_queries", "问法示例", "list"),
    ),
    "institution": (
        Column("type", "机构类型"),
        Column("qualifications", "资质", "qualifications"),
        Column("capabilities", "服务能力", "capabilities"),
        Column("region", "区域"),
        Column("address", "地址"),
        Column("service_modes", "服务方式", "list"),
        Column("hours", "服务时间"),
        Column("rating", "评分", "float"),
        *CONTACT,
        Column("description", "简介"),
    ),
    "station": (
        Column("type", "站点类型"),
        Column("region", "区域"),
        Column("address", "地址"),
        Column("hours", "服务时间"),
        Column("services", "服务事项", "list"),
        *CONTACT,
        Column("description", "简介"),
    ),
    "faq": (
        Column("variants", "问法变体", "list"),
        Column("answer", "答案"),
        Column("clause", "条款"),
    ),
    "standard": (
        Column("code", "标准编号"),
        Column("validity", "标准状态"),
        Column("effective", "实施日期", "date"),
        Column("withdrawn", "废止日期", "date"),
        Column("replaced_by", "代替标准"),
        Column("note", "备注"),
    ),
}
_KIND_CODES: dict[str, str] = {**{k: k for k in KINDS}, **{v: k for k, v in KIND_LABELS.items()}}
_DOMAIN_CODES = {**{k: k for k in DOMAIN_LABELS}, **{v: k for k, v in DOMAIN_LABELS.items()}}


def columns(kind: str) -> tuple[Column, ...]:
    return COMMON_HEAD + _BY_KIND[kind] + COMMON_TAIL


def field_labels(kind: str | None) -> dict[str, str]:
    """Field name (``contact.phone`` for a nested one) → the header staff know it by."""
    cols = columns(kind) if kind in _BY_KIND else COMMON_HEAD + COMMON_TAIL
    return {c.key: c.label for c in cols} | {"contact": "联系方式"}


def kind_code(value: str) -> str | None:
    """``service`` for "service" or "服务事项"; None when unknown."""
    return _KIND_CODES.get(value.strip())


# ── encoding: entry → cells ──────────────────────────────────────────────────────────────


def _safe(item: str, *, nested: bool) -> str:
    bad = ["\n", "\r"] + (["|", INNER, ";"] if nested else [])
    if any(mark in item for mark in bad):
        raise CellError(f"条目内容 {item!r} 含有分隔符，无法按表格格式导出")
    return item


def _inner(items: list[str]) -> str:
    return INNER.join(_safe(i, nested=True) for i in items)


def _encode(codec: str, value: Any) -> str:
    if value is None:
        return ""
    if codec == "list":
        return "\n".join(_safe(str(v), nested=False) for v in value)
    if codec == "sources":
        lines = []
        for s in value:
            parts = [s["code"], s["title"], s.get("effective") or "", s.get("withdrawn") or ""]
            lines.append(PART.join(_safe(str(p), nested=True) for p in parts).rstrip(" |"))
        return "\n".join(lines)
    if codec == "qualifications":
        return "\n".join(
            PART.join(
                [_safe(q["kind"], nested=True), _safe(q["number"], nested=True), _inner(q["scope"])]
            ).rstrip(" |")
            for q in value
        )
    if codec == "capabilities":
        return "\n".join(
            PART.join(
                [
                    _safe(c["service_id"], nested=True),
                    _inner(c["products"]),
                    _inner(c["items"]),
                    _inner(c["standards"]),
                ]
            ).rstrip(" |")
            for c in value
        )
    if codec == "float":
        return f"{value:g}"
    return _safe(str(value), nested=False) if codec != "text" else str(value)


def encode(entry: EntryBase) -> dict[str, str]:
    """The row of ``entry``, keyed by column key (raises ``CellError`` on an unsafe item)."""
    data = entry.model_dump(mode="json")
    row: dict[str, str] = {}
    for column in columns(entry.kind):
        head, _, tail = column.key.partition(".")
        value = (data.get(head) or {}).get(tail) if tail else data.get(head)
        row[column.key] = _encode(column.codec, value)
    return row


# ── decoding: cells → raw mapping for the schema ─────────────────────────────────────────


def _text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, datetime):
        return cell.date().isoformat()
    if isinstance(cell, date):
        return cell.isoformat()
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).replace("\r\n", "\n").strip()


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.split("\n") if line.strip()]


def _split_inner(text: str) -> list[str]:
    return [p.strip() for p in text.replace(";", INNER).split(INNER) if p.strip()]


def _parts(line: str, size: int, what: str) -> list[str]:
    parts = [p.strip() for p in line.split("|")]
    if len(parts) > size:
        raise CellError(f"{what}“{line}”的分段多于 {size} 段（用 | 分隔）")
    return parts + [""] * (size - len(parts))


def _source(line: str) -> dict[str, Any]:
    code, title, effective, withdrawn = _parts(line, 4, "依据")
    raw: dict[str, Any] = {"code": code, "title": title}
    for name, value in (("effective", effective), ("withdrawn", withdrawn)):
        if value:
            raw[name] = value
    return raw


def _qualification(line: str) -> dict[str, Any]:
    kind, number, scope = _parts(line, 3, "资质")
    return {"kind": kind, "number": number, "scope": _split_inner(scope)}


def _capability(line: str) -> dict[str, Any]:
    service_id, products, items, standards = _parts(line, 4, "服务能力")
    return {
        "service_id": service_id,
        "products": _split_inner(products),
        "items": _split_inner(items),
        "standards": _split_inner(standards),
    }


_LINE_CODECS: dict[str, Callable[[str], dict[str, Any]]] = {
    "sources": _source,
    "qualifications": _qualification,
    "capabilities": _capability,
}


def _decode(column: Column, text: str) -> Any:
    if column.codec == "list":
        return _lines(text)
    if column.codec in _LINE_CODECS:
        return [_LINE_CODECS[column.codec](line) for line in _lines(text)]
    if column.codec == "int":
        try:
            return int(text)
        except ValueError:
            raise CellError(f"“{column.label}”应为整数：{text!r}") from None
    if column.codec == "float":
        try:
            return float(text)
        except ValueError:
            raise CellError(f"“{column.label}”应为数字：{text!r}") from None
    if column.key == "domain":
        return _DOMAIN_CODES.get(text, text)
    return text


def decode(kind: str, cells: dict[str, Cell]) -> tuple[dict[str, Any], dict[str, str]]:
    """A raw mapping for ``parse_entry`` from cells keyed by column key, and cell errors
    keyed by field name (a field whose cell failed is left out of the mapping)."""
    raw: dict[str, Any] = {"kind": kind}
    errors: dict[str, str] = {}
    for column in columns(kind):
        if column.key == "kind":
            continue
        text = _text(cells.get(column.key))
        if not text:
            continue  # empty cell: the schema's default, or "missing" when required
        try:
            value = _decode(column, text)
        except CellError as exc:
            errors[column.key.partition(".")[0]] = str(exc)
            continue
        head, _, tail = column.key.partition(".")
        if tail:
            raw.setdefault(head, {})[tail] = value
        else:
            raw[head] = value
    return raw, errors


def header_keys(kind: str, headers: list[str]) -> tuple[list[str | None], list[str]]:
    """Column key per header (None: ignored) and the names of unknown headers."""
    by_name = {c.label: c.key for c in columns(kind)} | {c.key: c.key for c in columns(kind)}
    keys = [by_name.get(h.strip()) if h else None for h in headers]
    unknown = [h for h, k in zip(headers, keys, strict=True) if h and k is None]
    return keys, unknown
