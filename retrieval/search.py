"""Search over the live index version; a new version is picked up without restart."""

import threading
from dataclasses import dataclass, field
from typing import Any

from knowledge.store import KnowledgeBase, load_knowledge
from retrieval.encoder import Encoder
from retrieval.index import FlatIndex, Manifest, current_version, read_manifest
from retrieval.lexical import LexicalIndex
from retrieval.models import get_encoder
from retrieval.settings import RetrievalSettings, get_settings

LEXICAL_WEIGHT = 0.10  # a full BM25 match adds this much to the cosine (bench: sweep)


class IndexMissing(RuntimeError):
    """No index has been built yet (run `python -m retrieval build`)."""


@dataclass(frozen=True)
class Hit:
    id: str
    kind: str
    title: str
    score: float
    entry: Any = field(repr=False, compare=False)

    def public(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id, "kind": self.kind, "title": self.title, "score": round(self.score, 4),
            "summary": self.entry.summary(),
        }
        for name in ("domain", "region", "service_modes", "type"):
            value = getattr(self.entry, name, None)
            if value is not None:
                data[name] = value
        return data


@dataclass(frozen=True)
class Filters:
    domain: str | None = None
    region: str | None = None
    service_mode: str | None = None

    def accept(self, entry: Any) -> bool:
        if self.domain and getattr(entry, "domain", self.domain) != self.domain:
            return False
        if self.region and self.region not in (getattr(entry, "region", None) or self.region):
            return False
        modes = getattr(entry, "service_modes", None)
        return not (self.service_mode and modes is not None and self.service_mode not in modes)


class Searcher:
    def __init__(self, *, manifest: Manifest, indexes: dict[str, FlatIndex],
                 knowledge: KnowledgeBase, encoder: Encoder) -> None:
        self.manifest = manifest
        self.knowledge = knowledge
        self._indexes = indexes
        self._encoder = encoder
        self._lexical = {
            kind: LexicalIndex(
                [e.id for e in knowledge.published(kind)],
                [e.search_text() for e in knowledge.published(kind)],
            )
            for kind in indexes
        }

    @classmethod
    def open(cls, settings: RetrievalSettings, *, encoder: Encoder | None = None) -> "Searcher":
        manifest = read_manifest(settings.index_dir)
        if manifest is None:
            raise IndexMissing("检索索引尚未建立，请先运行 python -m retrieval build")
        folder = settings.index_dir / manifest.version
        indexes = {kind: FlatIndex.load(folder, kind) for kind in manifest.counts}
        return cls(manifest=manifest, indexes=indexes, knowledge=load_knowledge(),
                   encoder=encoder or get_encoder(settings))

    def search(self, query: str, *, kind: str, k: int = 5,
               filters: Filters | None = None) -> list[Hit]:
        index = self._indexes.get(kind)
        if index is None or not query.strip():
            return []
        vector = self._encoder.encode_queries([query.strip()])[0]
        lexical = self._lexical[kind].scores(query)
        filters = filters or Filters()
        hits: list[Hit] = []
        for entry_id, dense in index.search(vector, len(index)):
            entry = self.knowledge.get(entry_id)
            if entry is None or entry.status != "published" or not filters.accept(entry):
                continue
            score = dense + LEXICAL_WEIGHT * lexical.get(entry_id, 0.0)
            hits.append(Hit(id=entry_id, kind=kind, title=entry.title, score=score, entry=entry))
        hits.sort(key=lambda hit: hit.score, reverse=True)
        return hits[:k]


_lock = threading.Lock()
_live: dict[str, Searcher] = {}


def get_searcher(settings: RetrievalSettings | None = None) -> Searcher:
    """The searcher of the live index version, reopened when the version changes."""
    settings = settings or get_settings()
    key = str(settings.index_dir)
    version = current_version(settings.index_dir)
    searcher = _live.get(key)
    if searcher is not None and searcher.manifest.version == version:
        return searcher
    with _lock:
        searcher = _live.get(key)
        if searcher is None or searcher.manifest.version != version:
            searcher = Searcher.open(settings)
            _live[key] = searcher
    return searcher
