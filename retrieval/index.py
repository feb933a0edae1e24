"""Versioned index folder: one FAISS index per kind, a manifest and the entries it serves.

Layout under the index directory::

    CURRENT                     name of the live version (replaced atomically)
    v<timestamp>/manifest.json  model, dimension, knowledge hash, counts, backends
    v<timestamp>/entries.json   the entries this version serves (all kinds, drafts too)
    v<timestamp>/<kind>.faiss, <kind>.ids.json
    v<timestamp>/tokens.json    BM25 tokens of the published entries (retrieval.lexical)

A new version is written in full beside the live one and then named in ``CURRENT`` with
``os.replace``: a reader sees the old version or the new one, never half of either. Old
versions are pruned; a reader whose version vanished meanwhile simply opens the new one.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from knowledge.schema import Entry, parse_entry
from knowledge.store import KnowledgeBase
from retrieval.lexical import TOKENIZER, Tokens, corpus_tokens, load_tokens, save_tokens
from retrieval.vector_index import HNSW_EF_SEARCH, FlatIndex, HnswIndex, VectorIndex, load_index

__all__ = [
    "CURRENT", "ENTRIES", "MANIFEST", "FlatIndex", "HnswIndex", "Manifest", "Version",
    "copy_live", "current_version", "open_version", "publish", "read_manifest",
]  # fmt: skip

MANIFEST = "manifest.json"
ENTRIES = "entries.json"
CURRENT = "CURRENT"


@dataclass(frozen=True)
class Manifest:
    version: str
    model: str
    dimension: int
    knowledge_hash: str
    counts: dict[str, int]
    built_at: float
    backends: dict[str, str] = field(default_factory=dict)
    source: str = "yaml"  # "database" once staff published from the desk's knowledge tables
    lexical: str = ""  # the tokenizer of its tokens.json ("" for a version without them)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2)

    @classmethod
    def from_file(cls, path: Path) -> Manifest:
        data: dict[str, Any] = json.loads(path.read_text("utf-8"))
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class Version:
    """One opened version: its manifest, indexes and (when saved) the entries it serves and
    their BM25 tokens (None for an older version without them, or of another tokenizer)."""

    manifest: Manifest
    indexes: dict[str, FlatIndex | HnswIndex]
    knowledge: KnowledgeBase | None
    tokens: Tokens | None = None


def current_version(root: Path) -> str | None:
    pointer = root / CURRENT
    try:
        return pointer.read_text("utf-8").strip() or None
    except FileNotFoundError:
        return None


def read_manifest(root: Path) -> Manifest | None:
    version = current_version(root)
    if not version:
        return None
    try:
        return Manifest.from_file(root / version / MANIFEST)
    except FileNotFoundError:
        return None


def _open(folder: Path, ef_search: int) -> Version:
    manifest = Manifest.from_file(folder / MANIFEST)
    indexes = {kind: load_index(folder, kind, ef_search=ef_search) for kind in manifest.counts}
    knowledge = None
    if (folder / ENTRIES).exists():
        raw = json.loads((folder / ENTRIES).read_text("utf-8"))
        knowledge = KnowledgeBase.from_entries(parse_entry(item) for item in raw)
    tokens = load_tokens(folder) if knowledge is not None else None
    return Version(manifest, indexes, knowledge, tokens)


def open_version(
    root: Path, *, ef_search: int = HNSW_EF_SEARCH, attempts: int = 5
) -> Version | None:
    """The live version, read whole; None when nothing was published yet.

    Should the version be pruned between reading ``CURRENT`` and its files (a writer
    published twice meanwhile), the pointer is read again.
    """
    for _ in range(attempts):
        version = current_version(root)
        if version is None:
            return None
        try:
            return _open(root / version, ef_search)
        except (FileNotFoundError, RuntimeError):  # faiss raises RuntimeError for a lost file
            if current_version(root) == version and (root / version).exists():
                raise
    raise RuntimeError(f"index versions under {root} change faster than they can be read")


def publish(
    root: Path,
    indexes: Mapping[str, VectorIndex],
    *,
    model: str,
    knowledge_hash: str,
    entries: Iterable[Entry] | None = None,
    keep: int = 3,
    source: str = "yaml",
) -> Manifest:
    """Write a new version beside the live one, then swap the CURRENT pointer atomically.

    With ``entries`` the version also stores the BM25 tokens of those published: texts the
    live version already tokenised are taken from it, so a change of a few entries tokenises
    only those.
    """
    root.mkdir(parents=True, exist_ok=True)
    version = f"v{time.time_ns()}"
    staging = root / f".{version}.tmp"
    staging.mkdir()
    dimension = next(iter(indexes.values())).dimension
    for kind, index in indexes.items():
        index.save(staging, kind)
    lexical = ""
    if entries is not None:
        items = list(entries)
        dump = [entry.model_dump(mode="json") for entry in items]
        (staging / ENTRIES).write_text(json.dumps(dump, ensure_ascii=False), encoding="utf-8")
        live = current_version(root)
        known = load_tokens(root / live) if live else None
        texts = (e.search_text() for e in items if e.status == "published" and e.kind in indexes)
        save_tokens(staging, corpus_tokens(texts, known))
        lexical = TOKENIZER
    manifest = Manifest(
        version=version,
        model=model,
        dimension=dimension,
        knowledge_hash=knowledge_hash,
        counts={kind: len(index) for kind, index in indexes.items()},
        built_at=time.time(),
        backends={kind: index.backend for kind, index in indexes.items()},
        source=source,
        lexical=lexical,
    )
    (staging / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")
    staging.rename(root / version)
    pointer_tmp = root / f".{CURRENT}.{version}.tmp"
    pointer_tmp.write_text(version, encoding="utf-8")
    os.replace(pointer_tmp, root / CURRENT)
    _prune(root, keep=keep, live=version)
    return manifest


def copy_live(source: Path, target: Path) -> str:
    """A private index at ``target``: the live version of ``source`` and its embedding caches
    (tests and benchmarks publish into such a copy, never into a shared index)."""
    version = current_version(source)
    if version is None:
        raise FileNotFoundError(f"no index under {source} (run python -m retrieval build)")
    target.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source / version, target / version)
    for cache in source.glob("embeddings-*.npz"):
        shutil.copy(cache, target / cache.name)
    (target / CURRENT).write_text(version, encoding="utf-8")
    return version


def _prune(root: Path, *, keep: int, live: str) -> None:
    versions = sorted(p for p in root.glob("v*") if p.is_dir() and p.name != live)
    for old in versions[: max(0, len(versions) - (keep - 1))]:
        shutil.rmtree(old, ignore_errors=True)
