"""Service search benchmark: dense-only, BM25-only and hybrid side by side on labelled queries.

Run ``.venv/bin/python bench/retrieval_bench.py``; labels in bench/data/service_queries.yaml. A
query is found at k when any labelled id is in the top k (MRR@10: the first such id). Out-of-scope
queries give the false-match rate: top-1 at or above the threshold. Nothing is sampled.
"""

import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import yaml  # noqa: E402

from retrieval.build import build_index  # noqa: E402
from retrieval.encoder_cache import get_encoder  # noqa: E402
from retrieval.index import FlatIndex  # noqa: E402
from retrieval.lexical import LexicalIndex, normalize  # noqa: E402
from retrieval.search import LEXICAL_WEIGHT, get_searcher  # noqa: E402
from retrieval.settings import RetrievalSettings  # noqa: E402

DATA = ROOT / "bench" / "data" / "service_queries.yaml"
REPEATS = 3  # timed runs per query and method; the median counts
WEIGHTS = (0.0, 0.03, 0.06, 0.1, 0.15)
THRESHOLDS = (0.85, 0.86, 0.87, 0.875, 0.88, 0.89, 0.90)
GRID = [round(0.85 + 0.0025 * i, 4) for i in range(25)]  # thresholds the suggestion tries
Ranking = list[tuple[str, float]]  # (service id, score), best first
Method = Callable[[str], Ranking]
Labelled = list[tuple[str, list[str]]]
ROW = "{:8} {:>6} {:>6} {:>7} {:>13} {:>7} {:>7}"


def load_queries() -> tuple[Labelled, list[str]]:
    data = yaml.safe_load(DATA.read_text("utf-8"))
    labelled = [(str(q["q"]), [str(i) for i in q["ids"]]) for q in data["queries"]]
    return labelled, [str(q) for q in data["out_of_scope"]]


def _bigrams(text: str) -> set[str]:
    text = re.sub(r"\W", "", text.lower())
    return {text[i : i + 2] for i in range(len(text) - 1)}


def overlap(queries: list[str], examples: list[str]) -> tuple[int, int, float]:
    """Exact duplicates (punctuation ignored), near duplicates (bigram Jaccard >= 0.5), max."""
    norm = {re.sub(r"\W", "", e.lower()) for e in examples}
    exact = sum(re.sub(r"\W", "", q.lower()) in norm for q in queries)
    grams = [_bigrams(e) for e in examples]
    best = [max(len(g & b) / max(1, len(g | b)) for b in grams) for g in map(_bigrams, queries)]
    return exact, sum(s >= 0.5 for s in best), max(best)


def rank_of(ranking: Ranking, wanted: list[str], depth: int = 10) -> int | None:
    return next((n for n, (i, _) in enumerate(ranking[:depth], 1) if i in wanted), None)


def quality(rankings: list[Ranking], labelled: Labelled) -> tuple[float, float, float]:
    ranks = [rank_of(r, ids) for r, (_, ids) in zip(rankings, labelled, strict=True)]
    n = len(ranks)
    return (
        sum(r == 1 for r in ranks) / n,
        sum(r is not None and r <= 3 for r in ranks) / n,
        sum(1 / r for r in ranks if r) / n,
    )


def above(rankings: list[Ranking], threshold: float) -> float:
    """Share of queries whose top-1 score reaches the threshold."""
    return sum(bool(r) and r[0][1] >= threshold for r in rankings) / len(rankings)


def correct(rankings: list[Ranking], labelled: Labelled) -> list[Ranking]:
    """The rankings whose top-1 is relevant (others emptied), to count those kept by a threshold."""
    return [r if rank_of(r, ids, 1) else [] for r, (_, ids) in zip(rankings, labelled, strict=True)]


def timed(methods: dict[str, Method], queries: list[str]) -> dict[str, list[tuple[Ranking, float]]]:
    """Per method and query: ranking and median latency (ms); methods interleave per query."""
    out: dict[str, list[tuple[Ranking, float]]] = {name: [] for name in methods}
    for query in queries:
        for name, method in methods.items():
            times: list[float] = []
            for _ in range(REPEATS):
                start = time.perf_counter()
                ranking = method(query)
                times.append((time.perf_counter() - start) * 1000)
            out[name].append((ranking, statistics.median(times)))
    return out


def fuse(dense: Ranking, lexical: dict[str, float], weight: float) -> Ranking:
    return sorted(((i, s + weight * lexical.get(i, 0.0)) for i, s in dense), key=lambda x: -x[1])


def pct(x: float) -> str:
    return f"{100 * x:5.1f}%"


def main() -> None:
    settings = RetrievalSettings()
    built = build_index(settings=settings)  # a no-op when the live index is current
    searcher = get_searcher(settings)
    services = [s for s in searcher.knowledge.services if s.status == "published"]
    encoder = get_encoder(settings)  # the same cached model the searcher uses
    index = FlatIndex.load(settings.index_dir / searcher.manifest.version, "service")
    lexical = LexicalIndex([s.id for s in services], [s.search_text() for s in services])
    labelled, out_of_scope = load_queries()
    texts = [q for q, _ in labelled]
    examples = [e for s in services for e in s.example_queries]
    exact, near, top = overlap(texts + out_of_scope, examples)
    print(f"index {built.manifest.version} (rebuilt: {built.rebuilt}), {settings.model_path}")
    print(f"{len(labelled)} labelled and {len(out_of_scope)} out-of-scope queries")
    print(f"overlap with example_queries: exact {exact}, near {near}, max Jaccard {top:.2f}\n")

    def dense(query: str) -> Ranking:  # the same normalised query the searcher encodes
        return index.search(encoder.encode_queries([normalize(query)])[0], len(index))

    def bm25(query: str) -> Ranking:
        return sorted(lexical.scores(query).items(), key=lambda item: item[1], reverse=True)

    def hybrid(query: str) -> Ranking:
        return [(h.id, h.score) for h in searcher.search(query, kind="service", k=len(index))]

    methods: dict[str, Method] = {"dense": dense, "bm25": bm25, "hybrid": hybrid}
    for query in texts[:8]:  # warm up: model, jieba dictionary, FAISS
        for method in methods.values():
            method(query)
    runs = timed(methods, texts)
    ranked = {name: [r for r, _ in rows] for name, rows in runs.items()}
    oos = {name: [method(q) for q in out_of_scope] for name, method in methods.items()}
    t = settings.min_score
    print(ROW.format("method", "R@1", "R@3", "MRR@10", f"OOS FM@{t:.3f}", "p50 ms", "p95 ms"))
    for name, rows in runs.items():
        r1, r3, mrr = quality(ranked[name], labelled)
        fm = "n/a" if name == "bm25" else pct(above(oos[name], t))
        ms = [m for _, m in rows]
        p50, p95 = f"{np.median(ms):.1f}", f"{np.percentile(ms, 95):.1f}"
        print(ROW.format(name, pct(r1), pct(r3), f"{mrr:.3f}", fm, p50, p95))
    for query, ranking in zip(out_of_scope, oos["hybrid"], strict=True):
        if ranking and ranking[0][1] >= t:
            print(f"  hybrid false match: {query} → {ranking[0][0]} {ranking[0][1]:.3f}")

    print(f"\nhybrid worst misses (LEXICAL_WEIGHT={LEXICAL_WEIGHT}; gap = top-1 − best relevant):")
    misses = []
    for (query, ids), ranking in zip(labelled, ranked["hybrid"], strict=True):
        rank = rank_of(ranking, ids, depth=len(ranking)) or 99
        if rank != 1:
            gap = ranking[0][1] - next(s for i, s in ranking if i in ids)
            misses.append((rank, gap, query, ids, ranking[:3]))
    for rank, gap, query, ids, head in sorted(misses, reverse=True)[:10]:
        got = ", ".join(f"{i} {s:.3f}" for i, s in head)
        print(f"  #{rank:<2} gap {gap:.3f}  {query}  expected {'/'.join(ids)}  got {got}")
    print(f"  ({len(misses)} of {len(labelled)} not at rank 1)")

    lex_in = [lexical.scores(q) for q in texts]
    lex_oos = [lexical.scores(q) for q in out_of_scope]

    def fused(weight: float) -> tuple[list[Ranking], list[Ranking]]:
        return (
            [fuse(d, lx, weight) for d, lx in zip(ranked["dense"], lex_in, strict=True)],
            [fuse(d, lx, weight) for d, lx in zip(oos["dense"], lex_oos, strict=True)],
        )

    same = sum(
        [i for i, _ in f[:3]] == [i for i, _ in h[:3]]
        for f, h in zip(fused(LEXICAL_WEIGHT)[0], ranked["hybrid"], strict=True)
    )
    print(f"\nsweep of dense + w × BM25 (top-3 as Searcher's: {same}/{len(texts)})")
    print(f"{'':27}| OOS false match / in-scope correct top-1 kept, at threshold")
    cols = " ".join(f"{x:>13}" for x in THRESHOLDS)
    print(f"{'w':>5} {'R@1':>6} {'R@3':>6} {'MRR':>6} | {cols} | best t: kept − FM | max OOS")
    best: tuple[float, float, float, float, float] | None = None
    for weight in WEIGHTS:
        fin, fout = fused(weight)
        r1, r3, mrr = quality(fin, labelled)
        right = correct(fin, labelled)
        cells = " ".join(f"{pct(above(fout, x))}/{pct(above(right, x))}" for x in THRESHOLDS)
        # the threshold that keeps most correct answers net of false matches; ties: the higher
        net, x = max((round(above(right, x) - above(fout, x), 4), x) for x in GRID)
        cells += f" | {x:.4f}: {pct(net)} | {max(r[0][1] for r in fout):.3f}"
        print(f"{weight:5.2f} {pct(r1)} {pct(r3)} {mrr:6.3f} | {cells}")
        key = (net, round(mrr, 3), -abs(weight - LEXICAL_WEIGHT), weight, x)
        best = key if best is None or key > best else best
    assert best is not None
    net, _, _, weight, x = best
    fin, fout = fused(weight)
    fm, kept = pct(above(fout, x)), pct(above(correct(fin, labelled), x))
    print(f"\nsuggested: LEXICAL_WEIGHT={weight}, min_score={x} (best kept − FM, then MRR@10)")
    print(f"  there: OOS false matches {fm}, in-scope correct top-1 kept {kept}")


if __name__ == "__main__":
    main()
