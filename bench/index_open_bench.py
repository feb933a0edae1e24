"""Opening a published index: the stored BM25 tokens (tokens.json) against tokenising at open.

    .venv/bin/python bench/index_open_bench.py [--index var/cache/bench-search-100000-13]
        [--repeat 3] [--legacy-repeat 1]

Per index it times ``open_version`` (FAISS indexes, entries.json, tokens.json) and building the
searcher's BM25 indexes twice: from the version's stored tokens and, as a version published
before they were stored opens, by tokenising every entry. Medians of the repeats (tokenising
100,000 institutions takes minutes: ``--legacy-repeat`` defaults to one). It then checks that
both searchers give every labelled benchmark query the same BM25 scores, kind by kind.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import cast

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from knowledge.constants import Kind  # noqa: E402
from retrieval.index import Version, open_version  # noqa: E402
from retrieval.lexical import LexicalIndex, Tokens  # noqa: E402
from retrieval.settings import RetrievalSettings  # noqa: E402

ROW = "{:>28} {:>9} {:>12} {:>12} {:>14} {:>9}"


def lexical(version: Version, tokens: Tokens | None) -> dict[str, LexicalIndex]:
    assert version.knowledge is not None
    out = {}
    for kind in version.indexes:
        entries = version.knowledge.published(cast(Kind, kind))
        out[kind] = LexicalIndex(
            [e.id for e in entries], [e.search_text() for e in entries], known=tokens
        )
    return out


def timed(fn, repeat: int):  # type: ignore[no-untyped-def]
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", action="append", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--legacy-repeat", type=int, default=1)
    args = parser.parse_args()
    settings = RetrievalSettings()
    indexes = args.index or [settings.index_dir]
    queries = yaml.safe_load((ROOT / "bench/data/service_queries.yaml").read_text("utf-8"))
    texts = [str(q["q"]) for q in queries["queries"]]
    print(ROW.format("index", "entries", "open_version", "bm25 stored", "bm25 tokenised", "same"))
    for root in indexes:
        seconds_open, version = timed(lambda root=root: open_version(root), args.repeat)
        assert version is not None and version.knowledge is not None, f"no index at {root}"
        if version.tokens is None:
            print(f"{root}: no stored tokens (published before tokens.json): skipped")
            continue
        stored_s, stored = timed(lambda v=version: lexical(v, v.tokens), args.repeat)
        legacy_s, legacy = timed(lambda v=version: lexical(v, None), args.legacy_repeat)
        same = all(
            stored[kind].scores(q) == legacy[kind].scores(q) for kind in stored for q in texts
        )
        print(
            ROW.format(
                root.name[-28:],
                sum(len(ix) for ix in version.indexes.values()),
                f"{seconds_open:.2f} s",
                f"{stored_s:.2f} s",
                f"{legacy_s:.2f} s",
                "yes" if same else "NO",
            )
        )


if __name__ == "__main__":
    main()
