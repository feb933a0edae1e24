"""What changed between two versions of an entry, field by field, in words staff read."""

from typing import Any

from knowledge.tabular import COMMON_HEAD, COMMON_TAIL, columns

CLIP = 60
_LABELS = {c.key: c.label for c in (*COMMON_HEAD, *COMMON_TAIL)}
_LABELS |= {"contact": "联系方式"}
IGNORED = frozenset({"version"})  # the version number is the change itself


def field_label(kind: str, name: str) -> str:
    """The Chinese label staff know a field by (the spreadsheet's header)."""
    labels = _LABELS | {c.key: c.label for c in columns(kind)}
    return labels.get(name, name)


def _brief(value: Any) -> str:
    if value is None or value == [] or value == "":
        return "（空）"
    if isinstance(value, list):
        text = "；".join(_brief(v) for v in value)
    elif isinstance(value, dict):
        text = " | ".join(str(v) for v in value.values() if v not in (None, "", []))
    else:
        text = str(value)
    text = " ".join(text.split())
    return text if len(text) <= CLIP else text[: CLIP - 1] + "…"


def diff(kind: str, before: dict[str, Any] | None, after: dict[str, Any]) -> list[dict[str, str]]:
    """One item per changed top-level field: ``{field, label, before, after}``."""
    old = before or {}
    names = [n for n in dict.fromkeys([*after, *old]) if n not in IGNORED]
    return [
        {
            "field": name,
            "label": field_label(kind, name),
            "before": _brief(old.get(name)),
            "after": _brief(after.get(name)),
        }
        for name in names
        if old.get(name) != after.get(name)
    ]


def summary(changes: list[dict[str, str]]) -> str:
    """一行：改了哪些字段."""
    if not changes:
        return "内容未变"
    return "修改了" + "、".join(c["label"] for c in changes)
