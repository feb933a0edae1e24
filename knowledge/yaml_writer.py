"""Write changed entries back into the YAML files, keeping everything else as it was.

An entry that changed is replaced in place (its block between two ``  - `` items); a new
entry is appended to its file. Comments, ``refs`` anchors and untouched entries keep their
text. The new texts are parsed again and must give exactly the intended entries before any
file is replaced; each file is then swapped in with ``os.replace`` (never half written).
"""

from __future__ import annotations

import os
import re
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from knowledge.schema import Entry
from knowledge.store import KnowledgeBase, read_file

_ITEM = re.compile(r"^  - ")
_ID = re.compile(r"^  (?:- |  )id:\s*(.+?)\s*$")
_END = re.compile(r"^(?:  - |  #|\S)")
_KEY = re.compile(r"^  (?:- |  )(\w+):")


class WriteError(RuntimeError):
    """The YAML could not be written back faithfully; nothing was changed."""


class _Dumper(yaml.SafeDumper):
    """The seed files' style: block mappings, indented block lists, flow lists of scalars."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    flow = all(not isinstance(item, dict | list) for item in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


def _mapping(dumper: yaml.SafeDumper, data: dict[str, Any]) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=False)


def _string(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    style = '"' if _CLAUSE_LIKE.fullmatch(data) else None  # "6.1.2" as the seed files write it
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_CLAUSE_LIKE = re.compile(r"\d+(?:\.\d+)+[a-z]?\d*")
_Dumper.add_representer(str, _string)
_Dumper.add_representer(list, _list)
_Dumper.add_representer(dict, _mapping)
_DATES = frozenset({"review_due", "effective", "withdrawn"})


def _plain_dates(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: date.fromisoformat(v) if k in _DATES and isinstance(v, str) else _plain_dates(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_plain_dates(item) for item in value]
    return value


def _ordered(data: dict[str, Any], order: list[str]) -> dict[str, Any]:
    """Keys in the block's old order; a new key goes after its predecessor in model order."""
    keys = [k for k in order if k in data]
    model = list(data)
    for key in model:
        if key not in keys:
            before = [k for k in model[: model.index(key)] if k in keys]
            keys.insert(keys.index(before[-1]) + 1 if before else 0, key)
    return {k: data[k] for k in keys}


def entry_yaml(entry: Entry, *, with_kind: bool, order: list[str] | None = None) -> str:
    """One entry as a YAML list item indented for a file's ``entries:`` list."""
    data: dict[str, Any] = entry.model_dump(mode="json", exclude_defaults=True)
    data = {"id": entry.id, **({"kind": entry.kind} if with_kind else {}), **data}
    data = _ordered(data, order or [])
    text = yaml.dump(
        [_plain_dates(data)],
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        width=10**6,
    )
    return "".join("  " + line if line.strip() else line for line in text.splitlines(True))


def _blocks(lines: list[str]) -> dict[str, tuple[int, int]]:
    """Entry id → (first line, end line) of its block in the ``entries`` list."""
    blocks: dict[str, tuple[int, int]] = {}
    starts = [n for n, line in enumerate(lines) if _ITEM.match(line)]
    for start in starts:
        end = start + 1
        while end < len(lines) and not _END.match(lines[end]):
            end += 1
        while end > start + 1 and not lines[end - 1].strip():
            end -= 1  # trailing blank lines belong to what follows
        for line in lines[start:end]:
            found = _ID.match(line)
            if found:
                blocks[str(yaml.safe_load(found.group(1)))] = (start, end)
                break
    return blocks


def _default_kind(text: str) -> str | None:
    found = re.search(r"^kind:\s*(\w+)\s*$", text, re.MULTILINE)
    return found.group(1) if found else None


def spliced(text: str, changed: list[Entry], added: list[Entry]) -> str:
    """``text`` with the blocks of ``changed`` replaced and ``added`` appended."""
    kind = _default_kind(text)
    lines = text.splitlines(True)
    blocks = _blocks(lines)
    for entry in sorted(changed, key=lambda e: blocks[e.id][0], reverse=True):
        start, end = blocks[entry.id]
        order = [m.group(1) for line in lines[start:end] if (m := _KEY.match(line))]
        lines[start:end] = [entry_yaml(entry, with_kind=entry.kind != kind, order=order)]
    out = "".join(lines).rstrip("\n") + "\n"
    if added:
        out = re.sub(r"^entries:\s*\[\]\s*$", "entries:", out, flags=re.MULTILINE)
    if not text.strip():
        out = f"kind: {added[0].kind}\n\nentries:\n" if added else ""
        kind = added[0].kind if added else None
    for entry in added:
        out += "\n" + entry_yaml(entry, with_kind=entry.kind != kind)
    return out


def _expected_hash(path: Path, text: str) -> str:
    with tempfile.TemporaryDirectory() as folder:
        probe = Path(folder) / path.name
        probe.write_text(text, encoding="utf-8")
        located, problems = read_file(probe)
    if problems:
        raise WriteError(f"{path.name} 写回后无法解析：{problems[0].reason}")
    return KnowledgeBase.from_entries(item.entry for item in located).content_hash()


def file_mode(path: Path) -> int:
    """The mode a replaced file keeps (a new one gets 0o666 less the umask)."""
    if path.exists():
        return path.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_files(texts: dict[Path, str], expected: dict[Path, list[Entry]]) -> None:
    """Check every new text parses to its expected entries, then replace the files."""
    for path, text in texts.items():
        want = KnowledgeBase.from_entries(expected[path]).content_hash()
        if _expected_hash(path, text) != want:
            raise WriteError(f"{path.name} 写回结果与导入内容不一致，未做任何修改")
    staged: list[tuple[Path, Path]] = []
    try:
        for path, text in texts.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
            staged.append((Path(name), path))
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(name, file_mode(path))
        for temp, path in staged:
            os.replace(temp, path)
    finally:
        for temp, _ in staged:
            temp.unlink(missing_ok=True)
