"""VectorIndex seam: exact inner product over normalised vectors, with a manifest on disk.

Layout under the index directory::

    CURRENT                 name of the live version (replaced atomically)
    v<timestamp>/manifest.json
    v<timestamp>/<kind>.faiss, <kind>.ids.json
"""

import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

MANIFEST = "manifest.json"
CURRENT = "CURRENT"


class FlatIndex:
    """Exact cosine search (IndexIDMap2 over IndexFlatIP) keyed by string ids."""

    def __init__(self, dimension: int) -> None:
        import faiss

        self.dimension = dimension
        self._index = faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
        self._ids: dict[int, str] = {}
        self._next = 0

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def add(self, ids: list[str], vectors: np.ndarray) -> None:
        if vectors.shape != (len(ids), self.dimension):
            raise ValueError(f"expected {len(ids)}×{self.dimension} vectors, got {vectors.shape}")
        keys = np.arange(self._next, self._next + len(ids), dtype=np.int64)
        self._index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), keys)
        self._ids.update(zip(keys.tolist(), ids, strict=True))
        self._next += len(ids)

    def remove(self, ids: list[str]) -> int:
        wanted = set(ids)
        keys = [key for key, value in self._ids.items() if value in wanted]
        if keys:
            self._index.remove_ids(np.array(keys, dtype=np.int64))
            for key in keys:
                del self._ids[key]
        return len(keys)

    def search(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        if len(self) == 0:
            return []
        query = vector.reshape(1, -1).astype(np.float32)
        scores, keys = self._index.search(query, min(k, len(self)))
        return [
            (self._ids[int(key)], float(score))
            for key, score in zip(keys[0], scores[0], strict=True)
            if key != -1
        ]

    def save(self, folder: Path, kind: str) -> None:
        import faiss

        faiss.write_index(self._index, str(folder / f"{kind}.faiss"))
        (folder / f"{kind}.ids.json").write_text(
            json.dumps({str(k): v for k, v in self._ids.items()}, ensure_ascii=False),
            encoding="utf-8",
        )

    @classmethod
    def load(cls, folder: Path, kind: str) -> "FlatIndex":
        import faiss

        raw = faiss.read_index(str(folder / f"{kind}.faiss"))
        index = cls(raw.d)
        index._index = raw
        index._ids = {
            int(k): v
            for k, v in json.loads((folder / f"{kind}.ids.json").read_text("utf-8")).items()
        }
        index._next = max(index._ids, default=-1) + 1
        return index


@dataclass(frozen=True)
class Manifest:
    version: str
    model: str
    dimension: int
    knowledge_hash: str
    counts: dict[str, int]
    built_at: float

    def to_json(self) -> str:
        return json.dumps(self.__dict__, ensure_ascii=False, indent=2)

    @classmethod
    def from_file(cls, path: Path) -> "Manifest":
        data: dict[str, Any] = json.loads(path.read_text("utf-8"))
        return cls(**data)


def current_version(root: Path) -> str | None:
    pointer = root / CURRENT
    return pointer.read_text("utf-8").strip() if pointer.exists() else None


def read_manifest(root: Path) -> Manifest | None:
    version = current_version(root)
    if not version or not (root / version / MANIFEST).exists():
        return None
    return Manifest.from_file(root / version / MANIFEST)


def publish(
    root: Path, indexes: dict[str, FlatIndex], *, model: str, knowledge_hash: str, keep: int = 2
) -> Manifest:
    """Write a new version beside the live one, then swap the CURRENT pointer atomically."""
    root.mkdir(parents=True, exist_ok=True)
    version = f"v{time.time_ns()}"
    staging = root / f".{version}.tmp"
    staging.mkdir()
    dimension = next(iter(indexes.values())).dimension
    for kind, index in indexes.items():
        index.save(staging, kind)
    manifest = Manifest(
        version=version, model=model, dimension=dimension, knowledge_hash=knowledge_hash,
        counts={kind: len(index) for kind, index in indexes.items()}, built_at=time.time(),
    )
    (staging / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")
    staging.rename(root / version)
    pointer_tmp = root / f".{CURRENT}.{version}.tmp"
    pointer_tmp.write_text(version, encoding="utf-8")
    os.replace(pointer_tmp, root / CURRENT)
    _prune(root, keep=keep, live=version)
    return manifest


def _prune(root: Path, *, keep: int, live: str) -> None:
    versions = sorted(p for p in root.glob("v*") if p.is_dir() and p.name != live)
    for old in versions[: max(0, len(versions) - (keep - 1))]:
        shutil.rmtree(old, ignore_errors=True)
