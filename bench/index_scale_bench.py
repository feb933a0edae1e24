"""Index scale benchmark: exact (IDMap, Flat) vs HNSW at 1k, 10k, 100k and 1M entries.

Run ``.venv/bin/python bench/index_scale_bench.py [--sizes 1000,10000] [--no-encoder]``.

Vectors are synthetic and seeded: sentence embeddings have a low intrinsic dimension, so
each vector is a 32-d Gaussian latent through one fixed random 32→384 projection plus
isotropic noise, L2-normalised (nearest neighbours sit at cosine ≈ 0.6 — harder for HNSW
than real e5 neighbours at ≈ 0.85). Queries are fresh draws of the same model, not copies
of indexed vectors. Per size it reports build time and the index's size in memory (FAISS
vectors, graph and id map; the Python id dictionaries come on top),
single-query latency p50/p95 (one query per FAISS call, as the search API does), HNSW
recall@10 against the exact top 10, and ``encode + search``: the real e5 encoder on a
labelled benchmark query followed by the HNSW search. Exact search is timed both as one scan
(faiss scans one query on one thread) and split into one row range per core (``exact/2``), the
two alternating per query and checked to return the same hits. HNSW runs with the settings'
M / efConstruction / efSearch (``QCLINIC_HNSW_*``); an efSearch sweep follows. Exact search
at 1M is timed on fewer queries (``--exact-queries-1m``); its recall ground truth uses all.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from retrieval import vector_index  # noqa: E402
from retrieval.settings import RetrievalSettings  # noqa: E402
from retrieval.vector_index import FlatIndex, HnswIndex  # noqa: E402

DIM, LATENT, NOISE, K = 384, 32, 2.0, 10
ROW = "{:>9} {:>6} {:>9} {:>9} {:>8} {:>8} {:>9} {:>9} {:>10}"


def vectors(rng: np.random.Generator, projection: np.ndarray, n: int) -> np.ndarray:
    out = np.empty((n, DIM), dtype=np.float32)
    for start in range(0, n, 100_000):
        m = min(n, start + 100_000) - start
        x = rng.standard_normal((m, LATENT), dtype=np.float32) @ projection
        x += NOISE * rng.standard_normal((m, DIM), dtype=np.float32)
        out[start : start + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def index_mib(index: FlatIndex | HnswIndex) -> float:
    """Bytes of the FAISS index as saved (vectors, graph, id map) — what it holds in memory."""
    import faiss

    return faiss.serialize_index(index._index).nbytes / 2**20


def build(index: FlatIndex | HnswIndex, ids: list[str], data: np.ndarray) -> tuple[float, float]:
    gc.collect()
    start = time.perf_counter()
    index.add(ids, data)
    return time.perf_counter() - start, index_mib(index)


def timed(index: FlatIndex | HnswIndex, queries: np.ndarray) -> list[float]:
    out = []
    for query in queries:
        start = time.perf_counter()
        index.search(query, K)
        out.append((time.perf_counter() - start) * 1000)
    return out


def timed_exact(index: FlatIndex, queries: np.ndarray) -> tuple[list[float], list[float]]:
    """Exact search timed as one scan (the landed path) and split across the cores, the two
    alternating per query (which goes first alternates too); both must give the same hits."""
    split_from = vector_index.SHARD_MIN_ROWS
    times: tuple[list[float], list[float]] = ([], [])
    try:
        for n, query in enumerate(queries):
            got = []
            for mode in (0, 1) if n % 2 == 0 else (1, 0):
                vector_index.SHARD_MIN_ROWS = 2**62 if mode == 0 else split_from
                start = time.perf_counter()
                got.append(index.search(query, K))
                times[mode].append((time.perf_counter() - start) * 1000)
            assert got[0] == got[1], "split scan differs from one scan"
    finally:
        vector_index.SHARD_MIN_ROWS = split_from
    return times


def recall(got: list[list[tuple[str, float]]], truth: list[set[str]]) -> float:
    return statistics.fmean(len({i for i, _ in g} & t) / K for g, t in zip(got, truth, strict=True))


def pcts(ms: list[float]) -> tuple[str, str]:
    return f"{np.percentile(ms, 50):.2f}", f"{np.percentile(ms, 95):.2f}"


def encode_then_search(index: HnswIndex, encoder: object, texts: list[str]) -> list[float]:
    out = []
    for text in texts:
        start = time.perf_counter()
        vector = encoder.encode_queries([text])[0]  # type: ignore[attr-defined]
        index.search(vector, K)
        out.append((time.perf_counter() - start) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,100000,1000000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--exact-queries-1m", type=int, default=20)
    parser.add_argument("--sweep", default="64,128,256,512,1024")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-encoder", action="store_true", help="skip encode + search")
    parser.add_argument("--exact-only", action="store_true", help="no HNSW rows, no sweep")
    args = parser.parse_args()
    settings = RetrievalSettings()
    sizes = [int(s) for s in args.sizes.split(",")]
    sweep = [int(s) for s in args.sweep.split(",")]
    rng = np.random.default_rng(args.seed)
    projection = rng.standard_normal((LATENT, DIM), dtype=np.float32)
    queries = vectors(rng, projection, args.queries)
    encoder, texts = None, []
    if not args.no_encoder:
        import yaml

        from retrieval.encoder_cache import get_encoder

        encoder = get_encoder(settings)
        data = yaml.safe_load((ROOT / "bench/data/service_queries.yaml").read_text("utf-8"))
        texts = [q["q"] for q in data["queries"]][: args.queries]
        encoder.encode_queries(texts[:5])  # warm up
    hnsw = (settings.hnsw_m, settings.hnsw_ef_construction, settings.hnsw_ef_search)
    import faiss

    shards = vector_index.scan_threads()
    simd = faiss.SIMDConfig.get_level_name()  # type: ignore[attr-defined]
    started = time.perf_counter()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"dim {DIM}, k {K}, {args.queries} queries, seed {args.seed}; HNSW M={hnsw[0]} "
        f"efConstruction={hnsw[1]} efSearch={hnsw[2]}; faiss {faiss.__version__} kernels "
        f"{simd}, OpenMP threads {faiss.omp_get_max_threads()}, cpus {os.cpu_count()}, "
        f"load average {load}\n"
        f"exact: one scan of the matrix per query (faiss: one thread for one query); "
        f"exact/{shards}: the rows split in {shards} ranges scanned at once (from "
        f"{vector_index.SHARD_MIN_ROWS} rows), top {K} merged\n"
    )
    print(
        ROW.format(
            "entries",
            "index",
            "build s",
            "mem MiB",
            "p50 ms",
            "p95 ms",
            "recall@10",
            "enc+s p50",
            "enc+s p95",
        )
    )
    sweeps: list[str] = []
    for n in sizes:
        data = vectors(rng, projection, n)
        ids = [f"e{i}" for i in range(n)]
        flat = FlatIndex(DIM)
        seconds, mib = build(flat, ids, data)
        truth = [{i for i, _ in hits} for hits in flat.search_batch(queries, K)]
        timed_q = queries[: args.exact_queries_1m] if n >= 1_000_000 else queries
        one, split = timed_exact(flat, timed_q)
        p50, p95 = pcts(one)
        print(ROW.format(n, "exact", f"{seconds:.2f}", f"{mib:.0f}", p50, p95, "1.000", "", ""))
        if n >= vector_index.SHARD_MIN_ROWS:
            p50, p95 = pcts(split)
            print(ROW.format(n, f"exact/{shards}", "", "", p50, p95, "1.000", "", ""))
        del flat
        if args.exact_only:
            continue
        index = HnswIndex(DIM, m=hnsw[0], ef_construction=hnsw[1], ef_search=hnsw[2])
        seconds, mib = build(index, ids, data)
        del data
        p50, p95 = pcts(timed(index, queries))
        rec = recall(index.search_batch(queries, K), truth)
        e50, e95 = pcts(encode_then_search(index, encoder, texts)) if encoder else ("-", "-")
        print(
            ROW.format(n, "hnsw", f"{seconds:.2f}", f"{mib:.0f}", p50, p95, f"{rec:.3f}", e50, e95),
            flush=True,
        )
        cells = []
        for ef in sweep:
            index.ef_search = ef
            ms = timed(index, queries)
            cells.append(
                f"{recall(index.search_batch(queries, K), truth):.3f}/{np.percentile(ms, 95):.2f}"
            )
        sweeps.append(f"{n:>9} " + " ".join(f"{c:>14}" for c in cells))
        del index
        gc.collect()
    if args.exact_only:
        sweeps = []
    print(f"\nHNSW efSearch sweep: recall@10 / p95 ms (M={hnsw[0]}, efConstruction={hnsw[1]})")
    print(f"{'entries':>9} " + " ".join(f"{'ef ' + str(ef):>14}" for ef in sweep))
    print("\n".join(sweeps))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\ntotal {time.perf_counter() - started:.0f}s, load average {load}")


if __name__ == "__main__":
    main()
