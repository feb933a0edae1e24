"""Search API latency over HTTP: the landed code beside this tree, sample knowledge and 100k.

    .venv/bin/python bench/search_api_bench.py [--baseline <commit>] [--generated 100000]
        [--sizes sample,100k] [--per-kind 40] [--busy 1]

For each data set it starts two app processes (uvicorn, the desk and search API of
``app.main:create_desk_app``, SQLite in a temporary folder) on the same private index copy: one
runs the ``--baseline`` commit, checked out into a temporary git worktree, the other this tree.
Requests alternate between the two (which goes first alternates too), one at a time over
keep-alive connections, timed at the client from request to parsed JSON. Kinds of query:
``service``, ``institution`` and ``faq`` searches with the labelled benchmark queries
(bench/data/service_queries.yaml, each text used once: a disjoint slice per kind) and
``name``: an institution's own title (generated ones at 100k). ``cold`` is a query text the
process has not seen; ``warm`` the same requests once more (this tree caches recent query
vectors: retrieval.query_cache). The 100k set is the sample plus generated institutions
(bench/generated_institutions.py), built once into var/cache/ and reused.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import numpy as np  # noqa: E402
import yaml  # noqa: E402

from bench.generated_institutions import publish_with  # noqa: E402
from retrieval.index import copy_live, open_version, read_manifest  # noqa: E402
from retrieval.settings import RetrievalSettings  # noqa: E402
from tests.support import free_port  # noqa: E402

ROW = "{:>7} {:>12} {:>5} {:>4} {:>9} {:>9} {:>9} {:>9} {:>7}"


def generated_index(settings: RetrievalSettings, n: int, seed: int) -> Path:
    """var/cache/bench-search-<n>-<seed>: the live version plus ``n`` generated institutions."""
    root = settings.var_dir / "cache" / f"bench-search-{n}-{seed}"
    live = read_manifest(settings.index_dir)
    assert live is not None, "no index: run `make setup`"
    want = f"{live.knowledge_hash}+generated-{n}-{seed}"
    built = read_manifest(root)
    if built is None or built.knowledge_hash != want:
        shutil.rmtree(root, ignore_errors=True)
        version = open_version(settings.index_dir)
        assert version is not None
        started = time.perf_counter()
        publish_with(version, root, n, seed=seed, **settings.hnsw_params())
        print(f"built {root.name} in {time.perf_counter() - started:.0f}s", flush=True)
    return root


class Server:
    """One app process serving ``code``'s search API on ``index``."""

    def __init__(self, code: Path, index: Path, settings: RetrievalSettings, label: str) -> None:
        self.label = label
        self.port = free_port()
        self.home = Path(tempfile.mkdtemp(prefix=f"search-bench-{label}-"))
        env = {
            **os.environ,
            "PYTHONPATH": str(code),
            "QCLINIC_VAR_DIR": str(self.home),
            "QCLINIC_INDEX_DIR": str(index),
            "QCLINIC_EMBEDDING_MODEL": settings.model_path,
            "QCLINIC_RATE_LIMIT_PER_ADDRESS": "0",
        }
        self.log = (self.home / "server.log").open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "app.main:create_desk_app", "--factory",
             "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"],
            cwd=code, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=60)

    def ready(self, deadline: float) -> None:
        """Until the index is open and the model loaded (the first search does both)."""
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.label} exited: {(self.home / 'server.log').read_text()}")
            try:
                if self.client.get("/api/search", params={"q": "预热", "k": 1}).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(1)
        raise TimeoutError(f"{self.label} not ready: {(self.home / 'server.log').read_text()}")

    def search(self, params: dict[str, str | int]) -> tuple[float, list[str]]:
        start = time.perf_counter()
        response = self.client.get("/api/search", params=params)
        response.raise_for_status()
        ids = [hit["id"] for hit in response.json()["results"]]
        return (time.perf_counter() - start) * 1000, ids

    def stop(self) -> None:
        self.client.close()
        self.process.terminate()
        self.process.wait(30)
        self.log.close()
        shutil.rmtree(self.home, ignore_errors=True)


def workload(index: Path, per_kind: int, seed: int) -> list[tuple[str, dict[str, str | int]]]:
    """(kind of query, request parameters); every query text once."""
    data = yaml.safe_load((ROOT / "bench/data/service_queries.yaml").read_text("utf-8"))
    texts = [str(q["q"]) for q in data["queries"]]
    random.Random(seed).shuffle(texts)
    version = open_version(index)
    assert version is not None and version.knowledge is not None
    titles = [e.title for e in version.knowledge.institutions if e.status == "published"]
    generated = [t for t in titles if "分部" in t] or titles
    names = random.Random(seed).sample(generated, min(per_kind, len(generated)))
    plan: list[tuple[str, dict[str, str | int]]] = []
    for n, kind in enumerate(("service", "institution", "faq")):
        plan += [(kind, {"q": q, "kind": kind}) for q in texts[n * per_kind : (n + 1) * per_kind]]
    plan += [("name", {"q": q, "kind": "institution"}) for q in names]
    return plan


def pct(ms: list[float], q: int) -> float:
    return float(np.percentile(ms, q))


def run(label: str, servers: tuple[Server, Server], plan: list, seed: int) -> list[str]:
    times: dict[tuple[str, str, str], list[float]] = {}
    same = 0
    for temp in ("cold", "warm"):
        order = list(plan)
        random.Random(seed + (temp == "warm")).shuffle(order)
        for n, (kind, params) in enumerate(order):
            pair = servers if n % 2 == 0 else servers[::-1]
            got = {}
            for server in pair:
                ms, ids = server.search(params)
                got[server.label] = ids
                times.setdefault((kind, temp, server.label), []).append(ms)
            same += got["before"][:3] == got["after"][:3]
    rows = []
    for kind in dict.fromkeys(k for k, _ in plan):
        for temp in ("cold", "warm"):
            b, a = times[(kind, temp, "before")], times[(kind, temp, "after")]
            rows.append(
                ROW.format(
                    label,
                    kind,
                    temp,
                    len(a),
                    f"{pct(b, 50):.1f}",
                    f"{pct(b, 95):.1f}",
                    f"{pct(a, 50):.1f}",
                    f"{pct(a, 95):.1f}",
                    f"{pct(a, 95) / pct(b, 95):.2f}",
                )
            )
    for temp in ("cold", "warm"):
        b = [m for (_, t, s), v in times.items() if t == temp and s == "before" for m in v]
        a = [m for (_, t, s), v in times.items() if t == temp and s == "after" for m in v]
        rows.append(
            ROW.format(
                label,
                "all",
                temp,
                len(a),
                f"{pct(b, 50):.1f}",
                f"{pct(b, 95):.1f}",
                f"{pct(a, 50):.1f}",
                f"{pct(a, 95):.1f}",
                f"{pct(a, 95) / pct(b, 95):.2f}",
            )
        )
    rows.append(f"{label}: same top 3 before and after in {same} of {2 * len(plan)} requests")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--baseline",
        default="",
        help="commit of the 'before' column (default: where HEAD left main)",
    )
    parser.add_argument("--generated", type=int, default=100_000)
    parser.add_argument("--sizes", default="sample,generated")
    parser.add_argument("--per-kind", type=int, default=40)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument(
        "--busy", type=int, default=0,
        help="processes that keep a core busy meanwhile, as Rasa and the actions do beside "
        "the app on a 2-core machine (0: a quiet machine)",
    )  # fmt: skip
    args = parser.parse_args()
    settings = RetrievalSettings()
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.busy)]
    base = args.baseline or subprocess.run(
        ["git", "merge-base", "HEAD", "main"], cwd=ROOT, check=True, capture_output=True,
        text=True,
    ).stdout.strip()  # fmt: skip
    rev = subprocess.run(
        ["git", "rev-parse", "--short", base], cwd=ROOT, check=True,
        capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    here = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, check=True, capture_output=True,
        text=True,
    ).stdout.strip()  # fmt: skip
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    scratch = Path(tempfile.mkdtemp(prefix="search-bench-"))
    before_code = scratch / "before"
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(before_code), rev], cwd=ROOT, check=True,
        capture_output=True,
    )  # fmt: skip
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    changes = " + changes" if dirty else ""
    print(
        f"before: {args.baseline or 'merge-base with main'} ({rev}); "
        f"after: this tree ({here}{changes}); cpus {os.cpu_count()}, load average {load}, "
        f"{args.busy} busy processes beside\n",
        flush=True,
    )
    table = [ROW.format("data", "query", "", "n", "before50", "before95", "after50", "after95",
                        "95 a/b")]  # fmt: skip
    try:
        for size in args.sizes.split(","):
            if size == "sample":
                index = scratch / "index-sample"
                copy_live(settings.index_dir, index)
                label = "sample"
            else:
                index = generated_index(settings, args.generated, args.seed)
                label = f"{args.generated // 1000}k"
            servers = (
                Server(before_code, index, settings, "before"),
                Server(ROOT, index, settings, "after"),
            )
            try:
                started = time.monotonic()
                with ThreadPoolExecutor(2) as pool:  # both open the index at the same time
                    list(pool.map(Server.ready, servers, [started + 1800] * 2))
                print(f"{label}: both ready in {time.monotonic() - started:.0f}s", flush=True)
                plan = workload(index, args.per_kind, args.seed)
                table += run(label, servers, plan, args.seed)
            finally:
                for server in servers:
                    server.stop()
            print("\n".join(table), flush=True)
    finally:
        for spinner in busy:
            spinner.kill()
        subprocess.run(
            ["git", "worktree", "remove", "--force", str(before_code)], cwd=ROOT, check=False
        )
        shutil.rmtree(scratch, ignore_errors=True)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\nms per request, client side; load average {load}")


if __name__ == "__main__":
    main()
