"""VectorIndex seam: inner product over normalised vectors, keyed by string ids.

Two FAISS backends behind one interface (add = add or replace, remove, search, vectors,
save, load):

* ``FlatIndex``  — exact ``IndexIDMap2(IndexFlatIP)``, for small collections; from
  ``SHARD_MIN_ROWS`` rows a search of few queries scans the matrix in one row range per core
  (faiss scans one query on one thread; it releases the GIL, so the ranges run at once) and
  merges their top k: the same ids and scores as one scan;
* ``HnswIndex``  — ``IndexIDMap2(IndexHNSWFlat)`` with inner product, above
  ``RetrievalSettings.hnsw_threshold`` entries. HNSW cannot delete from its graph, so a
  removed entry is a tombstone (its key leaves the id map and is filtered from results) until
  the graph is rebuilt: when tombstones pass a quarter of the graph, and before saving.

``make_index`` picks the backend for a size; ``fit_backend`` converts an index whose size
crossed the threshold; ``load_index`` reads either from a version folder.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np

# faiss-cpu ≥ 1.12 wheels are one library that picks its kernels at run time (compile options
# "DD AVX2 AVX512 …"; here AVX512_SPR); its loader still tries the old per-ISA modules first and
# logs each miss at INFO ("Could not load library with AVX2 support"), which reads like a
# failure. Those lines are dropped; ``describe_faiss`` says what really runs.
logging.getLogger("faiss.loader").setLevel(logging.WARNING)

BACKENDS = ("flat", "hnsw")
# Defaults of RetrievalSettings.hnsw_* (bench/index_scale_bench.py: recall@10 ≥ 0.95 at 1M).
HNSW_M, HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH = 16, 20, 1024
# Exact search splits the scan across cores from this many rows (below, a thread hand-off costs
# more than it saves: bench/index_scale_bench.py), for batches of at most SHARD_MAX_QUERIES
# (faiss parallelises larger batches over the queries itself).
SHARD_MIN_ROWS, SHARD_MAX_QUERIES = 20_000, 8


def openmp_threads_here(queries: int | None = None) -> None:
    """faiss's OpenMP team on this thread: none for a search of a few ``queries``, the
    process's default for anything else (many queries, adding to an index, a rebuild).

    faiss parallelises a search over its queries; with one query the team's second thread has
    nothing to do, but the first still waits for it at the region's end, and when the other
    core is busy (Rasa, a second request) that thread is not scheduled for a time slice: about
    6.5 ms for a 0.3 ms search of the sample (bench/search_api_bench.py). OpenMP's thread count
    is per thread (its ICV), and the app's worker threads serve searches and publishes alike,
    so each faiss call says what it needs."""
    import faiss

    few = queries is not None and queries <= SHARD_MAX_QUERIES
    faiss.omp_set_num_threads(1 if few else openmp_default())


@lru_cache(maxsize=1)
def openmp_default() -> int:
    """faiss's OpenMP threads as a new thread has them (OMP_NUM_THREADS, or the cores)."""
    import faiss

    seen: list[int] = []
    probe = threading.Thread(target=lambda: seen.append(faiss.omp_get_max_threads()))
    probe.start()
    probe.join()
    return seen[0]


@lru_cache(maxsize=1)
def _scan_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=scan_threads(), thread_name_prefix="faiss-scan")


@lru_cache(maxsize=1)
def scan_threads() -> int:
    """Row ranges an exact search scans at once: faiss's OpenMP threads, at most the cores."""
    return max(1, min(openmp_default(), os.cpu_count() or 1))


def describe_faiss() -> str:
    """The faiss version, the kernels it dispatched to and its threads, for the log."""
    import faiss

    config = getattr(faiss, "SIMDConfig", None)
    simd = config.get_level_name() if config is not None else faiss.get_compile_options()
    return (
        f"faiss {faiss.__version__}: {simd} kernels, {openmp_default()} OpenMP "
        f"threads; exact search of one query split in {scan_threads()} row ranges from "
        f"{SHARD_MIN_ROWS} rows"
    )


def sharded_knn(
    queries: np.ndarray, matrix: np.ndarray, k: int, shards: int
) -> tuple[np.ndarray, np.ndarray]:
    """Exact inner-product top ``k`` of ``queries`` over ``matrix`` rows, the rows cut into
    ``shards`` ranges scanned in parallel; (scores, row numbers) best first, as faiss gives."""
    import faiss

    rows = len(matrix)
    bounds = np.linspace(0, rows, shards + 1).astype(np.int64)
    ranges = [(int(a), int(b)) for a, b in itertools.pairwise(bounds) if b > a]

    def scan(span: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        start, stop = span
        openmp_threads_here(len(queries))
        scores, found = faiss.knn(
            queries, matrix[start:stop], min(k, stop - start), metric=faiss.METRIC_INNER_PRODUCT
        )
        return scores, found + start

    parts = list(_scan_pool().map(scan, ranges)) if len(ranges) > 1 else [scan(ranges[0])]
    scores = np.concatenate([p[0] for p in parts], axis=1)
    found = np.concatenate([p[1] for p in parts], axis=1)
    # best first; equal scores by row number, as one scan's heap would not promise either way
    order = np.lexsort((found, -scores), axis=1)[:, :k]
    return np.take_along_axis(scores, order, axis=1), np.take_along_axis(found, order, axis=1)


class VectorIndex(Protocol):
    @property
    def backend(self) -> str: ...

    dimension: int

    def __len__(self) -> int: ...

    def __contains__(self, entry_id: object) -> bool: ...

    def ids(self) -> list[str]: ...

    def add(self, ids: list[str], vectors: np.ndarray) -> None: ...

    def remove(self, ids: list[str]) -> int: ...

    def search(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]: ...

    def search_batch(self, queries: np.ndarray, k: int) -> list[list[tuple[str, float]]]: ...

    def vectors(self, ids: list[str]) -> np.ndarray: ...

    def save(self, folder: Path, kind: str) -> None: ...


class _IdMapped:
    """String ids over FAISS int64 keys; subclasses give the inner index."""

    backend: ClassVar[str]

    def __init__(self, dimension: int) -> None:
        import faiss

        self.dimension = dimension
        self._index: Any = faiss.IndexIDMap2(self._inner(dimension))
        self._ids: dict[int, str] = {}
        self._keys: dict[str, int] = {}
        self._next = 0

    def _inner(self, dimension: int) -> Any:
        raise NotImplementedError

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._keys

    def ids(self) -> list[str]:
        return list(self._keys)

    def add(self, ids: list[str], vectors: np.ndarray) -> None:
        """Add entries; an id already present is replaced."""
        if vectors.shape != (len(ids), self.dimension):
            raise ValueError(f"expected {len(ids)}×{self.dimension} vectors, got {vectors.shape}")
        if len(set(ids)) != len(ids):
            raise ValueError("duplicate ids in one add")
        self.remove([i for i in ids if i in self._keys])
        keys = np.arange(self._next, self._next + len(ids), dtype=np.int64)
        openmp_threads_here()  # an HNSW graph is built by the whole team
        self._index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), keys)
        for key, entry_id in zip(keys.tolist(), ids, strict=True):
            self._ids[key] = entry_id
            self._keys[entry_id] = key
        self._next += len(ids)

    def remove(self, ids: list[str]) -> int:
        keys = [self._keys.pop(i) for i in dict.fromkeys(ids) if i in self._keys]
        for key in keys:
            del self._ids[key]
        if keys:
            self._drop(np.array(keys, dtype=np.int64))
        return len(keys)

    def _drop(self, keys: np.ndarray) -> None:
        self._index.remove_ids(keys)

    def _raw_search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        openmp_threads_here(len(query))
        scores, keys = self._index.search(query, k)
        return scores, keys

    def search(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """The ``k`` best (id, cosine) pairs, best first."""
        return self.search_batch(vector.reshape(1, -1), k)[0]

    def search_batch(self, queries: np.ndarray, k: int) -> list[list[tuple[str, float]]]:
        """``search`` for many queries at once (one FAISS call)."""
        if not self._ids or k <= 0:
            return [[] for _ in range(len(queries))]
        matrix = np.ascontiguousarray(queries, dtype=np.float32)
        scores, keys = self._raw_search(matrix, min(k, len(self)))
        return [
            [
                (self._ids[int(key)], float(score))
                for key, score in zip(key_row, score_row, strict=True)
                if int(key) in self._ids
            ][:k]
            for key_row, score_row in zip(keys, scores, strict=True)
        ]

    def vectors(self, ids: list[str]) -> np.ndarray:
        """The stored vectors of ``ids`` (KeyError for an unknown id)."""
        out = np.zeros((len(ids), self.dimension), dtype=np.float32)
        for row, entry_id in enumerate(ids):
            out[row] = self._index.reconstruct(self._keys[entry_id])
        return out

    def live(self) -> tuple[list[str], np.ndarray]:
        """All live ids and their vectors, in insertion order."""
        import faiss

        keys = faiss.vector_to_array(self._index.id_map)
        storage = self._storage()
        total = int(storage.ntotal)
        matrix = faiss.rev_swig_ptr(storage.get_xb(), total * self.dimension)
        matrix = np.asarray(matrix).reshape(total, self.dimension)
        rows = [n for n, key in enumerate(keys.tolist()) if key in self._ids]
        return [self._ids[int(keys[n])] for n in rows], matrix[rows].copy()

    def _storage(self) -> Any:
        import faiss

        return faiss.downcast_index(self._index.index)

    def save(self, folder: Path, kind: str) -> None:
        import faiss

        faiss.write_index(self._index, str(folder / f"{kind}.faiss"))
        (folder / f"{kind}.ids.json").write_text(
            json.dumps({str(k): v for k, v in self._ids.items()}, ensure_ascii=False),
            encoding="utf-8",
        )

    def _restore(self, raw: Any, ids: dict[int, str]) -> None:
        self._index = raw
        self._ids = ids
        self._keys = {v: k for k, v in ids.items()}
        self._next = max(ids, default=-1) + 1


class FlatIndex(_IdMapped):
    """Exact cosine search (IndexIDMap2 over IndexFlatIP)."""

    backend = "flat"

    def _inner(self, dimension: int) -> Any:
        import faiss

        return faiss.IndexFlatIP(dimension)

    def _raw_search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        shards = scan_threads()
        total = int(self._index.ntotal)
        if shards < 2 or total < SHARD_MIN_ROWS or len(query) > SHARD_MAX_QUERIES:
            return super()._raw_search(query, k)
        import faiss

        matrix = faiss.rev_swig_ptr(self._storage().get_xb(), total * self.dimension)
        matrix = np.asarray(matrix).reshape(total, self.dimension)  # the index's own rows
        scores, rows = sharded_knn(query, matrix, k, shards)
        keys = np.asarray(faiss.rev_swig_ptr(self._index.id_map.data(), total))
        return scores, keys[rows]

    @classmethod
    def load(cls, folder: Path, kind: str) -> FlatIndex:
        index = load_index(folder, kind)
        if not isinstance(index, FlatIndex):
            raise TypeError(f"{kind} is a {index.backend} index")
        return index


class HnswIndex(_IdMapped):
    """Approximate cosine search (IndexIDMap2 over IndexHNSWFlat, inner product)."""

    backend = "hnsw"
    TOMBSTONE_SHARE = 0.25

    def __init__(
        self,
        dimension: int,
        *,
        m: int = HNSW_M,
        ef_construction: int = HNSW_EF_CONSTRUCTION,
        ef_search: int = HNSW_EF_SEARCH,
    ) -> None:
        self.m, self.ef_construction, self.ef_search = m, ef_construction, ef_search
        super().__init__(dimension)

    def _inner(self, dimension: int) -> Any:
        import faiss

        inner = faiss.IndexHNSWFlat(dimension, self.m, faiss.METRIC_INNER_PRODUCT)
        inner.hnsw.efConstruction = self.ef_construction
        return inner

    def _storage(self) -> Any:
        import faiss

        return faiss.downcast_index(faiss.downcast_index(self._index.index).storage)  # type: ignore[attr-defined]

    def _drop(self, keys: np.ndarray) -> None:
        if self._index.ntotal - len(self._ids) > self.TOMBSTONE_SHARE * self._index.ntotal:
            self._rebuild()  # otherwise the keys stay in the graph as tombstones

    def _rebuild(self) -> None:
        ids, vectors = self.live()
        self._index = self._fresh()
        self._ids, self._keys, self._next = {}, {}, 0
        self.add(ids, vectors)

    def _fresh(self) -> Any:
        import faiss

        return faiss.IndexIDMap2(self._inner(self.dimension))

    def _raw_search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        import faiss

        extra = int(self._index.ntotal) - len(self._ids)  # tombstones may take places
        want = min(int(self._index.ntotal), k + extra)
        params = faiss.SearchParametersHNSW(efSearch=max(self.ef_search, want))  # type: ignore[attr-defined]
        openmp_threads_here(len(query))
        scores, keys = self._index.search(query, want, params=params)
        return scores, keys

    def save(self, folder: Path, kind: str) -> None:
        if self._index.ntotal != len(self._ids):
            self._rebuild()
        super().save(folder, kind)


def make_index(
    dimension: int,
    size: int,
    *,
    threshold: int,
    m: int = HNSW_M,
    ef_construction: int = HNSW_EF_CONSTRUCTION,
    ef_search: int = HNSW_EF_SEARCH,
) -> FlatIndex | HnswIndex:
    """Exact below ``threshold`` entries, HNSW from there on."""
    if size >= threshold:
        return HnswIndex(dimension, m=m, ef_construction=ef_construction, ef_search=ef_search)
    return FlatIndex(dimension)


def fit_backend(
    index: FlatIndex | HnswIndex,
    *,
    threshold: int,
    m: int = HNSW_M,
    ef_construction: int = HNSW_EF_CONSTRUCTION,
    ef_search: int = HNSW_EF_SEARCH,
) -> FlatIndex | HnswIndex:
    """``index`` itself when its backend suits its size, else a converted copy."""
    want = "hnsw" if len(index) >= threshold else "flat"
    if index.backend == want:
        if isinstance(index, HnswIndex):
            index.ef_search = ef_search
        return index
    fresh = make_index(
        index.dimension,
        len(index),
        threshold=threshold,
        m=m,
        ef_construction=ef_construction,
        ef_search=ef_search,
    )
    ids, vectors = index.live()
    fresh.add(ids, vectors)
    return fresh


def load_index(
    folder: Path, kind: str, *, ef_search: int = HNSW_EF_SEARCH
) -> FlatIndex | HnswIndex:
    """Read a saved index of either backend (the FAISS file says which)."""
    import faiss

    raw = faiss.read_index(str(folder / f"{kind}.faiss"))
    inner = faiss.downcast_index(raw.index)  # type: ignore[attr-defined]
    ids = {
        int(k): v for k, v in json.loads((folder / f"{kind}.ids.json").read_text("utf-8")).items()
    }
    index: FlatIndex | HnswIndex
    if isinstance(inner, faiss.IndexHNSW):
        index = HnswIndex(
            raw.d,
            m=inner.hnsw.nb_neighbors(0) // 2,  # type: ignore[attr-defined]
            ef_construction=inner.hnsw.efConstruction,
            ef_search=ef_search,
        )
    else:
        index = FlatIndex(raw.d)
    index._restore(raw, ids)
    return index
