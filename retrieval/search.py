"""Search over the live index version; a new version is picked up without restart.

Entries resting on a withdrawn source (``Entry.under_review``) are not served: search skips
them unless the caller asks for them with ``Filters(include_under_review=True)`` (the
staff's view), and then every such hit says so.
"""

import logging
import threading
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast

import numpy as np

from knowledge.constants import KINDS, Kind
from knowledge.store import KnowledgeBase, load_knowledge
from retrieval.encoder import Encoder
from retrieval.encoder_cache import get_encoder
from retrieval.index import Manifest, current_version, open_version
from retrieval.lexical import LexicalIndex, LexicalScores, Tokens, normalize
from retrieval.query_cache import QueryVectors
from retrieval.settings import RetrievalSettings, get_settings
from retrieval.vector_index import FlatIndex, HnswIndex, describe_faiss

log = logging.getLogger(__name__)

LEXICAL_WEIGHT = 0.10  # a full BM25 match adds this much to the cosine (bench: sweep)
REVIEW_NOTE = "所依据的标准或法规已废止，条目待复审"


class IndexMissing(RuntimeError):
    """No index has been built yet (run `python -m retrieval build`)."""


@dataclass(frozen=True)
class Hit:
    id: str
    kind: str
    title: str
    score: float
    entry: Any = field(repr=False, compare=False)
    under_review: bool = False
    dense: float = 0.0  # cosine of query and entry (the fused score's parts, for staff)
    lexical: float = 0.0  # BM25 share of the query's weight the entry matches, 0..1

    def public(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "title": self.title,
            "score": round(self.score, 4),
            "summary": self.entry.summary(),
        }
        for name in ("domain", "domains", "region", "service_modes", "type"):
            value = getattr(self.entry, name, None)
            if value is not None:
                data[name] = value
        if self.under_review:
            data["under_review"] = True
            data["review_note"] = REVIEW_NOTE
        return data


def entry_domains(entry: Any) -> list[str]:
    """The QI domains an entry belongs to: a service its one ``domain``; an institution, a
    station or an FAQ its ``domains`` (by the services it offers or serves, by its clause)."""
    domain = getattr(entry, "domain", None)
    if isinstance(domain, str):
        return [domain]
    return list(getattr(entry, "domains", None) or [])


@dataclass(frozen=True)
class Filters:
    domain: str | None = None
    region: str | None = None
    service_mode: str | None = None
    include_under_review: bool = False  # staff only: also entries on a withdrawn source

    def accept(self, entry: Any) -> bool:
        if self.domain and self.domain not in entry_domains(entry):
            return False
        if self.region and self.region not in (getattr(entry, "region", None) or self.region):
            return False
        modes = getattr(entry, "service_modes", None)
        return not (self.service_mode and modes is not None and self.service_mode not in modes)


class Searcher:
    def __init__(
        self,
        *,
        manifest: Manifest,
        indexes: dict[str, FlatIndex | HnswIndex],
        knowledge: KnowledgeBase,
        encoder: Encoder,
        candidates: int = 200,
        query_vectors: QueryVectors | None = None,
        tokens: Tokens | None = None,
    ) -> None:
        """``tokens``: the version's stored BM25 tokens; without them every entry is tokenised."""
        self.manifest = manifest
        self.knowledge = knowledge
        self.encoder = encoder
        self.query_vectors = query_vectors or QueryVectors(0)
        self._indexes = indexes
        self._candidates = candidates
        self._lexical = {
            kind: LexicalIndex(
                [e.id for e in knowledge.published(cast(Kind, kind))],
                [e.search_text() for e in knowledge.published(cast(Kind, kind))],
                known=tokens,
            )
            for kind in indexes
        }

    @classmethod
    def open(cls, settings: RetrievalSettings, *, encoder: Encoder | None = None) -> "Searcher":
        version = open_version(settings.index_dir, ef_search=settings.hnsw_ef_search)
        if version is None:
            raise IndexMissing("检索索引尚未建立，请先运行 python -m retrieval build")
        log.info("index %s; %s", version.manifest.version, describe_faiss())
        return cls(
            manifest=version.manifest,
            indexes=version.indexes,
            knowledge=version.knowledge or load_knowledge(),
            encoder=encoder or get_encoder(settings),
            candidates=settings.hnsw_candidates,
            query_vectors=query_vectors(settings.query_cache_size),
            tokens=version.tokens,  # None without saved entries (retrieval.index)
        )

    def index(self, kind: str) -> FlatIndex | HnswIndex | None:
        return self._indexes.get(kind)

    def _dense(
        self, kind: str, vector: np.ndarray, lexical: LexicalScores
    ) -> list[tuple[str, float]]:
        """Dense scores: every entry of an exact index; HNSW candidates plus lexical hits."""
        index = self._indexes[kind]
        if index.backend == "flat":
            return index.search(vector, len(index))
        hits = index.search(vector, self._candidates)
        seen = {entry_id for entry_id, _ in hits}
        extra = [i for i in lexical.best(self._candidates // 4) if i not in seen and i in index]
        if extra:
            hits += zip(extra, (index.vectors(extra) @ vector).tolist(), strict=True)
        return hits

    def browse(self, *, kind: str, filters: Filters, k: int | None = None) -> list[Hit]:
        """Category browsing (§7.2.1 分类检索): the published entries of ``kind`` that pass the
        filters, in the knowledge's own order, without query text (each scores 1.0)."""
        today = date.today()
        hits: list[Hit] = []
        for entry in self.knowledge.published(cast(Kind, kind)) if kind in KINDS else []:
            if not filters.accept(entry):
                continue
            withheld = entry.under_review(today)
            if withheld and not filters.include_under_review:
                continue
            hits.append(
                Hit(
                    id=entry.id,
                    kind=kind,
                    title=entry.title,
                    score=1.0,
                    entry=entry,
                    under_review=withheld,
                )
            )
        return hits if k is None else hits[:k]

    def search(
        self, query: str, *, kind: str, k: int = 5, filters: Filters | None = None
    ) -> list[Hit]:
        if kind not in self._indexes or not query.strip():
            return []
        query = normalize(query.strip())  # 繁體 → 简体, full-width → ASCII
        vector = self.query_vectors.vector(self.encoder, query)
        lexical = self._lexical[kind].match(query)
        filters = filters or Filters()
        today = date.today()
        hits: list[Hit] = []
        for entry_id, dense in self._dense(kind, vector, lexical):
            entry = self.knowledge.get(entry_id)
            if entry is None or entry.status != "published" or not filters.accept(entry):
                continue
            withheld = entry.under_review(today)
            if withheld and not filters.include_under_review:
                continue
            bm25 = lexical.get(entry_id, 0.0)
            hits.append(
                Hit(
                    id=entry_id,
                    kind=kind,
                    title=entry.title,
                    score=dense + LEXICAL_WEIGHT * bm25,
                    entry=entry,
                    under_review=withheld,
                    dense=dense,
                    lexical=bm25,
                )
            )
        hits.sort(key=lambda hit: hit.score, reverse=True)
        return hits[:k]


_lock = threading.Lock()
_live: dict[str, Searcher] = {}
_query_vectors: dict[int, QueryVectors] = {}
_query_vectors_lock = threading.Lock()  # apart: Searcher.open runs under _lock


def query_vectors(size: int) -> QueryVectors:
    """The process's cache of query vectors (one per size asked, in practice one)."""
    with _query_vectors_lock:
        return _query_vectors.setdefault(size, QueryVectors(size))


def get_searcher(
    settings: RetrievalSettings | None = None, *, encoder: Encoder | None = None
) -> Searcher:
    """The searcher of the live index version, reopened when the version changes."""
    settings = settings or get_settings()
    key = str(settings.index_dir)
    version = current_version(settings.index_dir)
    searcher = _live.get(key)
    if searcher is not None and searcher.manifest.version == version:
        return searcher
    with _lock:
        searcher = _live.get(key)
        if searcher is None or searcher.manifest.version != current_version(settings.index_dir):
            previous = searcher.encoder if searcher is not None else None
            searcher = Searcher.open(settings, encoder=encoder or previous)
            _live[key] = searcher
    return searcher
