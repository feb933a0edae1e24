"""Load the knowledge base from YAML files (``knowledge/data/*.yaml``).

Each file is a mapping with an optional default ``kind``, a list of ``entries`` and
optional ``refs`` (YAML anchors reused by entries, e.g. sources; ignored otherwise)::

    kind: service
    entries:
      - id: "6.1.1"
        title: 检定/校准能力查询与电子证书
        ...

An entry may carry its own ``kind``. Loading is pure: no network, no database.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ValidationError

from knowledge.constants import Kind
from knowledge.schema import (
    Entry,
    Faq,
    Institution,
    Service,
    Standard,
    Station,
    parse_entry,
    standard_key,
)

DATA_DIR = Path(__file__).resolve().parent / "data"
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
TOP_LEVEL_KEYS = frozenset({"kind", "entries", "refs"})  # refs: YAML anchors to reuse


@dataclass(frozen=True)
class Problem:
    """One finding about the knowledge files: where, which entry, why."""

    file: str
    entry_id: str
    reason: str
    level: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        return f"{self.file}: {self.entry_id}: {self.reason}"


class KnowledgeError(Exception):
    """The knowledge files cannot be loaded; ``problems`` says why, one per finding."""

    code = "knowledge_invalid"

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("知识库数据有误：\n" + "\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class Located:
    """An entry together with the file it came from."""

    entry: Entry
    file: str


def _where(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(条目)"


def _label(kind: str | None, loc: tuple[int | str, ...]) -> str:
    """The field as staff know it: ``答案（answer）``; the path alone when it has no label."""
    from knowledge.tabular import field_labels

    where = _where(loc)
    dotted = ".".join(str(p) for p in loc if isinstance(p, str))
    labels = field_labels(kind)
    label = labels.get(dotted) or labels.get(str(loc[0]) if loc else "")
    return f"{label}（{where}）" if label else where


def describe_error(err: Any) -> str:
    """One pydantic error as a Chinese reason naming the field (its label and its path)."""
    loc = tuple(err["loc"])
    entry_kind = None
    if loc and loc[0] in ("service", "institution", "station", "faq", "standard"):
        entry_kind, loc = str(loc[0]), loc[1:]
    reason = _reason(_label(entry_kind, loc), err["type"], err.get("ctx") or {}, err)
    return reason.replace("） ", "）")  # 字段 答案（answer）不能为空


def _reason(where: str, kind: str, ctx: dict[str, Any], err: Any) -> str:
    if kind == "missing":
        return f"缺少字段 {where}"
    if kind == "string_too_short":
        return f"字段 {where} 不能为空"
    if kind == "too_short":
        return f"字段 {where} 至少需要 {ctx.get('min_length')} 项"
    if kind == "extra_forbidden":
        return f"未知字段 {where}"
    if kind == "literal_error":
        return f"字段 {where} 取值无效：{err.get('input')!r}（可选：{ctx.get('expected')}）"
    if kind == "union_tag_invalid":
        return f"未知的 kind：{ctx.get('tag')!r}"
    if kind == "union_tag_not_found":
        return "缺少 kind"
    message = str(err["msg"]).removeprefix("Value error, ")
    return f"字段 {where} 无效：{message}"


def _raw_id(raw: object, index: int) -> str:
    if isinstance(raw, dict) and raw.get("id") not in (None, ""):
        return str(raw["id"])
    return f"#{index + 1}"


def read_file(path: Path) -> tuple[list[Located], list[Problem]]:
    """Parse one YAML file into entries, collecting every problem instead of stopping."""
    name = path.name
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        return [], [Problem(name, "-", f"无法读取 YAML：{exc}")]
    if doc is None:
        return [], []
    if not isinstance(doc, dict) or not isinstance(doc.get("entries"), list):
        return [], [Problem(name, "-", "文件应为包含 entries 列表的映射")]
    unknown = sorted(set(doc) - TOP_LEVEL_KEYS)
    if unknown:
        return [], [Problem(name, "-", f"未知的顶层键 {', '.join(map(str, unknown))}")]
    default_kind = doc.get("kind")
    located: list[Located] = []
    problems: list[Problem] = []
    for index, raw in enumerate(doc["entries"]):
        entry_id = _raw_id(raw, index)
        if not isinstance(raw, dict):
            problems.append(Problem(name, entry_id, "条目应为映射"))
            continue
        data = {"kind": default_kind, **raw} if default_kind and "kind" not in raw else raw
        try:
            located.append(Located(parse_entry(data), name))
        except ValidationError as exc:
            problems.extend(Problem(name, entry_id, describe_error(e)) for e in exc.errors())
    return located, problems


def read_entries(root: Path) -> tuple[list[Located], list[Problem]]:
    """Parse every ``*.yaml`` file under ``root`` (sorted by name)."""
    if not root.is_dir():
        return [], [Problem(str(root), "-", "知识库目录不存在")]
    located: list[Located] = []
    problems: list[Problem] = []
    for path in sorted(root.glob("*.yaml")):
        found, issues = read_file(path)
        located.extend(found)
        problems.extend(issues)
    return located, problems


def duplicate_problems(located: Iterable[Located]) -> list[Problem]:
    """One problem for every entry whose id was already used."""
    first: dict[str, str] = {}
    problems: list[Problem] = []
    for item in located:
        entry_id = item.entry.id
        if entry_id in first:
            problems.append(
                Problem(item.file, entry_id, f"id 重复（已在 {first[entry_id]} 中出现）")
            )
        else:
            first[entry_id] = item.file
    return problems


@dataclass(frozen=True)
class KnowledgeBase:
    """All entries, by kind, in file order; ids are unique across kinds."""

    services: tuple[Service, ...] = ()
    institutions: tuple[Institution, ...] = ()
    stations: tuple[Station, ...] = ()
    faqs: tuple[Faq, ...] = ()
    standards: tuple[Standard, ...] = ()
    _index: dict[str, Entry] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[str, Entry] = {}
        for entry in self.entries():
            if entry.id in index:
                raise KnowledgeError([Problem("-", entry.id, "id 重复")])
            index[entry.id] = entry
        object.__setattr__(self, "_index", index)

    @classmethod
    def from_entries(cls, entries: Iterable[Entry]) -> KnowledgeBase:
        items = list(entries)
        return cls(
            services=tuple(e for e in items if isinstance(e, Service)),
            institutions=tuple(e for e in items if isinstance(e, Institution)),
            stations=tuple(e for e in items if isinstance(e, Station)),
            faqs=tuple(e for e in items if isinstance(e, Faq)),
            standards=tuple(e for e in items if isinstance(e, Standard)),
        )

    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._index

    def entries(self) -> Iterator[Entry]:
        yield from self.services
        yield from self.institutions
        yield from self.stations
        yield from self.faqs
        yield from self.standards

    def get(self, entry_id: str) -> Entry | None:
        return self._index.get(entry_id)

    def published(self, kind: Kind | None = None) -> list[Entry]:
        """Published entries, optionally of one kind, in file order."""
        return [
            e
            for e in self.entries()
            if e.status == "published" and (kind is None or e.kind == kind)
        ]

    def institutions_for(self, service_id: str) -> list[Institution]:
        """Published institutions with a capability under ``service_id``."""
        return [
            i for i in self.institutions if i.status == "published" and service_id in i.service_ids
        ]

    def stations_for(self, service_id: str) -> list[Station]:
        """Published stations that offer ``service_id``."""
        return [s for s in self.stations if s.status == "published" and service_id in s.services]

    def counts(self) -> dict[str, int]:
        return {
            "service": len(self.services),
            "institution": len(self.institutions),
            "station": len(self.stations),
            "faq": len(self.faqs),
            "standard": len(self.standards),
        }

    def standard(self, code: str) -> Standard | None:
        """The published standard with this code (blanks, width and dash style ignored)."""
        key = standard_key(code)
        return next((s for s in self.standards if s.status == "published" and s.key == key), None)

    def content_hash(self) -> str:
        """sha256 of a canonical JSON dump of all entries sorted by id (format-independent)."""
        dump = [e.model_dump(mode="json") for e in sorted(self.entries(), key=lambda e: e.id)]
        text = json.dumps(dump, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_knowledge(root: Path | None = None) -> KnowledgeBase:
    """Read ``root`` (default: the package's ``data`` dir); raise ``KnowledgeError`` if broken."""
    located, problems = read_entries(DATA_DIR if root is None else Path(root))
    problems += duplicate_problems(located)
    if problems:
        raise KnowledgeError(problems)
    return KnowledgeBase.from_entries(item.entry for item in located)


@lru_cache(maxsize=1)
def get_knowledge() -> KnowledgeBase:
    """The packaged sample, loaded once (tests and tools). What a running assistant serves is
    the live index version's knowledge: ``retrieval.live.live_knowledge()``."""
    return load_knowledge()
