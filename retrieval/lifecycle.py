"""Change single entries of the live index: add or update, remove — each a new version.

``upsert_entries`` and ``remove_entries`` copy the live version, apply the change to its
indexes and entries, and publish the result as a new version (atomic ``CURRENT`` swap); a
running searcher picks it up at its next query. Writers in several processes take turns
through a lock file, so no change is lost. A collection that grows past
``hnsw_threshold`` moves to HNSW (and back below it) as it is published.
"""

from __future__ import annotations

import fcntl
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from knowledge.schema import Entry
from knowledge.store import KnowledgeBase, Located
from knowledge.validate import check_references
from retrieval.build import KINDS
from retrieval.embedding_cache import cache_file, encode_passages_cached
from retrieval.encoder import Encoder
from retrieval.encoder_cache import get_encoder
from retrieval.index import Manifest, Version, open_version, publish
from retrieval.search import IndexMissing
from retrieval.settings import RetrievalSettings, get_settings
from retrieval.vector_index import FlatIndex, HnswIndex, fit_backend, make_index

LOCK = ".writer.lock"
ENCODE_CHUNK = 16  # passages encoded between two progress reports
Progress = Callable[[int, int], None]  # (done, total) steps of a change


class EntryRejected(ValueError):
    """The change would leave the knowledge inconsistent (e.g. a capability's service)."""


@contextmanager
def writer_lock(root: Path) -> Iterator[None]:
    """One writer at a time across processes (readers never wait)."""
    root.mkdir(parents=True, exist_ok=True)
    with (root / LOCK).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _live(settings: RetrievalSettings) -> Version:
    version = open_version(settings.index_dir, ef_search=settings.hnsw_ef_search)
    if version is None:
        raise IndexMissing("检索索引尚未建立，请先运行 python -m retrieval build")
    if version.knowledge is None:
        raise IndexMissing("当前索引版本没有条目快照，请先运行 python -m retrieval build --force")
    return version


def _publish(
    settings: RetrievalSettings,
    version: Version,
    knowledge: KnowledgeBase,
    indexes: dict[str, FlatIndex | HnswIndex],
    source: str | None = None,
) -> Manifest:
    fitted = {kind: fit_backend(index, **settings.hnsw_params()) for kind, index in indexes.items()}
    return publish(
        settings.index_dir,
        fitted,
        model=version.manifest.model,
        knowledge_hash=knowledge.content_hash(),
        entries=knowledge.entries(),
        source=source or version.manifest.source,
    )


def _encode(
    encoder: Encoder, texts: list[str], cache: Path, progress: Progress | None, total: int
) -> np.ndarray:
    """Vectors of ``texts`` (the cache spares unchanged ones), reporting progress per chunk."""
    if progress is None:
        return encode_passages_cached(encoder, texts, cache)[0]
    parts = []
    for start in range(0, len(texts), ENCODE_CHUNK):
        parts.append(encode_passages_cached(encoder, texts[start : start + ENCODE_CHUNK], cache)[0])
        progress(min(start + ENCODE_CHUNK, len(texts)), total)
    return np.concatenate(parts) if parts else np.zeros((0, encoder.dimension), np.float32)


def upsert_entries(
    entries: Sequence[Entry],
    *,
    settings: RetrievalSettings | None = None,
    encoder: Encoder | None = None,
    progress: Progress | None = None,
    source: str | None = None,
) -> Manifest:
    """Add new entries or replace those with the same id; drafts leave the index.

    ``progress(done, total)`` is called as passages are encoded and once the new version is
    live; ``source`` marks who published (``"database"`` from the desk; default: unchanged).
    """
    settings = settings or get_settings()
    total = len(entries) + 1
    with writer_lock(settings.index_dir):
        version = _live(settings)
        old = version.knowledge
        assert old is not None
        wanted = {entry.id: entry for entry in entries}
        clashes = [e.id for e in entries if (o := old.get(e.id)) is not None and o.kind != e.kind]
        if clashes:
            raise EntryRejected(f"编号已被其他类别的条目使用：{'、'.join(clashes)}")
        merged = [wanted.pop(e.id, e) for e in old.entries()] + list(wanted.values())
        errors = [
            p for p in check_references([Located(e, "-") for e in merged]) if p.level == "error"
        ]
        if errors:
            raise EntryRejected("；".join(f"{p.entry_id}: {p.reason}" for p in errors))
        knowledge = KnowledgeBase.from_entries(merged)
        indexes = dict(version.indexes)
        published = [e for e in entries if e.status == "published"]
        if published:
            encoder = encoder or get_encoder(settings)
            vectors = _encode(
                encoder,
                [e.search_text() for e in published],
                cache_file(settings.index_dir, version.manifest.model),
                progress,
                total,
            )
            for kind in KINDS:
                rows = [n for n, e in enumerate(published) if e.kind == kind]
                if not rows:
                    continue
                if kind not in indexes:
                    indexes[kind] = make_index(
                        version.manifest.dimension, len(rows), **settings.hnsw_params()
                    )
                indexes[kind].add([published[n].id for n in rows], vectors[rows])
        for entry in entries:
            if entry.status != "published" and entry.kind in indexes:
                indexes[entry.kind].remove([entry.id])
        manifest = _publish(settings, version, knowledge, indexes, source)
        if progress is not None:
            progress(total, total)
        return manifest


def remove_entries(ids: Sequence[str], *, settings: RetrievalSettings | None = None) -> Manifest:
    """Take entries out of the index and out of the entries it serves."""
    settings = settings or get_settings()
    with writer_lock(settings.index_dir):
        version = _live(settings)
        assert version.knowledge is not None
        gone = set(ids)
        kept = [e for e in version.knowledge.entries() if e.id not in gone]
        dangling = [
            p for p in check_references([Located(e, "-") for e in kept]) if p.level == "error"
        ]
        if dangling:
            raise EntryRejected("；".join(f"{p.entry_id}: {p.reason}" for p in dangling))
        for index in version.indexes.values():
            index.remove(list(gone))
        return _publish(settings, version, KnowledgeBase.from_entries(kept), dict(version.indexes))
