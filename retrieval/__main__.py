"""python -m retrieval build [--force] | search "…" [--kind service] [-k 5]"""

import argparse
import json
import logging
import sys
import time

from retrieval.build import build_index
from retrieval.search import Filters, get_searcher


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m retrieval")
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="build the FAISS index when knowledge or model changed")
    build.add_argument("--force", action="store_true")
    search = sub.add_parser("search", help="print ranked results for a query")
    search.add_argument("query")
    search.add_argument(
        "--kind", default="service", choices=["service", "institution", "station", "faq"]
    )
    search.add_argument("-k", type=int, default=5)
    search.add_argument("--domain")
    search.add_argument("--region")
    search.add_argument(
        "--include-under-review",
        action="store_true",
        help="also entries resting on a withdrawn source (flagged)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    if args.command == "build":
        started = time.perf_counter()
        result = build_index(force=args.force)
        state = f"built ({result.encoded} encoded)" if result.rebuilt else "up to date"
        print(
            f"index {result.manifest.version} {state}: {json.dumps(result.manifest.counts)} "
            f"{json.dumps(result.manifest.backends)} ({time.perf_counter() - started:.1f}s)"
        )
        return 0
    hits = get_searcher().search(
        args.query,
        kind=args.kind,
        k=args.k,
        filters=Filters(
            domain=args.domain, region=args.region, include_under_review=args.include_under_review
        ),
    )
    for rank, hit in enumerate(hits, 1):
        flag = "  [待复审：依据已废止]" if hit.under_review else ""
        print(f"{rank:>2}. {hit.score:.4f}  {hit.id:<14} {hit.title}{flag}")
    return 0 if hits else 1


if __name__ == "__main__":
    sys.exit(main())
