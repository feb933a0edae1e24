"""Resident memory of the embedded default, the landed layout and this checkout side by side.

    .venv/bin/python bench/memory_bench.py [--baseline 9b15883] [--layouts landed,new]

Each layout is started the way `make run` starts it (app.stack: Rasa server, action server, app on
free ports, SQLite in a temporary folder, warmed up by app.warm_path), then a few chat turns go
through the web chat API: two needs up to their recommendation and demand, a procedural question,
and searches through GET /api/search. Then every process of each part (with its children: rasa_sdk
under Sanic ran three) is read from /proc: RSS, and PSS from smaps_rollup (PSS shares a page among
the processes that map it, here and elsewhere on the machine, so it moves with what other people
run; RSS does not). The landed layout is the code of ``--baseline`` (``git archive``) run with this
checkout's environments and var/ (same Rasa model, index and e5 model); ``new`` is this checkout.
Chat turn and search latencies (p50/p95, ms) are printed beside the memory.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from io import BytesIO
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LANDED = "9b15883"  # the last commit before one model served both processes
NEEDS = (
    ("我们有一批电线电缆需要做检测", "江阴市周庄镇"),
    ("公司有一批压力表要做校准", "无锡市新吴区"),
)
FAQ = "企业注册需要准备什么材料"
SEARCHES = ("电线电缆检测", "压力表校准", "食品检测机构", "商标注册", "ISO 9001 认证咨询")


def conversation(need: str, place: str, n: int) -> list[str]:
    return [need, place, "张伟", f"139{n:08d}", "好的"]  # reserved-style test numbers


def _proc(pid: int, name: str) -> str:
    return (Path("/proc") / str(pid) / name).read_text(errors="replace")


def tree(pid: int) -> list[int]:
    """``pid`` and every descendant."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop(0)
        found.append(current)
        for task in (Path("/proc") / str(current) / "task").iterdir():
            queue += [int(c) for c in (task / "children").read_text().split()]
    return found


def memory(pid: int) -> dict[str, Any]:
    """RSS, PSS, anonymous and file-backed resident MB of one process, and what it is."""
    fields: dict[str, int] = {}
    for line in _proc(pid, "smaps_rollup").splitlines()[1:]:
        key, value = line.split(":", 1)
        fields[key] = int(value.split()[0])
    command = _proc(pid, "cmdline").replace("\0", " ").strip()
    environ = dict(item.split("=", 1) for item in _proc(pid, "environ").split("\0") if "=" in item)
    if "resource_tracker" in command:
        role = "multiprocessing resource tracker"
    elif "SANIC_WORKER_NAME" in environ:
        role = f"Sanic worker {environ['SANIC_WORKER_NAME']}"
    elif "spawn_main" in command:
        role = "spawned child (Sanic's shared state)"
    else:
        role = " ".join(command.split()[1:4])
    mb = 1024
    return {
        "pid": pid,
        "role": role,
        "rss": fields["Rss"] / mb,
        "pss": fields["Pss"] / mb,
        "anon": fields.get("Anonymous", 0) / mb,
        "file": (fields["Rss"] - fields.get("Anonymous", 0) - fields.get("Shared_Hugetlb", 0)) / mb,
    }


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))] * 1000


def measure() -> dict[str, Any]:
    """Start the stack of the checkout on sys.path[0], warm it, chat, read /proc, stop."""
    import httpx
    from pydantic import SecretStr

    from app.settings import AppSettings
    from app.stack import Stack
    from tests.support import free_port

    folder = Path(tempfile.mkdtemp(prefix="memory-bench-"))
    settings = AppSettings(
        database_url=f"sqlite:///{folder / 'desk.db'}",
        port=free_port(),
        rasa_port=free_port(),
        actions_port=free_port(),
        service_token=SecretStr("bench-" + secrets.token_hex(8)),
        rasa_token=SecretStr("bench-" + secrets.token_hex(8)),
        admin_password=SecretStr("bench-" + secrets.token_hex(8)),
    )
    os.environ["QCLINIC_RATE_LIMIT_PER_ADDRESS"] = "0"
    os.environ["QCLINIC_RATE_LIMIT_PER_CONVERSATION"] = "0"
    stack = Stack(settings=settings, log_dir=folder / "logs")
    started = time.perf_counter()
    stack.start()
    try:
        stack.wait_ready(timeout_s=300)
        stack.warm()
        ready_s = time.perf_counter() - started
        turns: list[float] = []
        recommended = demands = 0
        with httpx.Client(base_url=settings.desk_url, timeout=60) as client:
            for n, (need, place) in enumerate(NEEDS):
                cid = f"web:{uuid.uuid4()}"
                replies: list[str] = []
                for text in [*conversation(need, place, n), FAQ]:
                    t0 = time.perf_counter()
                    answer = client.post(
                        "/api/chat/messages", json={"conversation_id": cid, "text": text}
                    )
                    turns.append(time.perf_counter() - t0)
                    answer.raise_for_status()
                    replies += [m.get("text") or "" for m in answer.json()["messages"]]
                recommended += any("为您推荐以下服务" in r for r in replies)
                demands += any("已为您提交需求" in r for r in replies)
            searches: list[float] = []
            for _ in range(10):
                for q in SEARCHES:
                    t0 = time.perf_counter()
                    client.get("/api/search", params={"q": q, "kind": "service"}).raise_for_status()
                    searches.append(time.perf_counter() - t0)
        time.sleep(2)  # let the last turn's allocations settle
        parts = {
            name: [memory(pid) for pid in tree(process.pid)]
            for name, process in stack.processes.items()
        }
        return {
            "ready_s": ready_s,
            "parts": parts,
            "turn_p50": pct(turns, 0.5),
            "turn_p95": pct(turns, 0.95),
            "search_p50": pct(searches, 0.5),
            "search_p95": pct(searches, 0.95),
            "recommended": recommended,
            "demands": demands,
        }
    except Exception:
        for log in sorted(stack.log_dir.glob("*.log")):
            print(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}", file=sys.stderr)
        raise
    finally:
        stack.stop()
        shutil.rmtree(folder, ignore_errors=True)


def landed_tree(revision: str, into: Path) -> Path:
    """The landed code (``git archive``), with this checkout's environments and var/."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", revision], cwd=ROOT, capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    for name in (".venv", ".venv-rasa", "var"):
        (into / name).symlink_to((ROOT / name).resolve())
    return into


def run_layout(repo: Path) -> dict[str, Any]:
    """``measure`` in a child interpreter whose imports come from ``repo``."""
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), __file__, "--measure", str(repo)],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{repo}: {done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def total(parts: dict[str, list[dict[str, Any]]], key: str, name: str | None = None) -> float:
    return sum(p[key] for part, rows in parts.items() if name in (None, part) for p in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default=LANDED, help="git revision of the landed layout")
    parser.add_argument("--layouts", default="landed,new")
    parser.add_argument("--measure", metavar="REPO", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        sys.path.insert(0, args.measure)
        print(json.dumps(measure()))
        return
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="memory-bench-landed-") as tmp:
        for layout in args.layouts.split(","):
            repo = landed_tree(args.baseline, Path(tmp)) if layout == "landed" else ROOT
            results[layout] = run_layout(repo)
            print(f"[bench] {layout} measured", file=sys.stderr, flush=True)
    names = list(results)
    print(f"\nresident MB after warm-up and {len(NEEDS)} needs (landed = {args.baseline})\n")
    print("| part | " + " | ".join(f"{n} RSS | {n} PSS | {n} procs" for n in names) + " |")
    print("|---|" + "---|---|---|" * len(names))
    for part in ("rasa", "actions", "app", None):
        cells = []
        for name in names:
            parts = results[name]["parts"]
            count = sum(len(rows) for p, rows in parts.items() if part in (None, p))
            rss, pss = total(parts, "rss", part), total(parts, "pss", part)
            cells.append(f"{rss:.0f} | {pss:.0f} | {count}")
        print(f"| {part or '**total**'} | " + " | ".join(cells) + " |")
    for name in names:
        print(f"\n{name}: every process (MB)\n")
        print("| part | pid | what | RSS | PSS | anon | file |")
        print("|---|---|---|---|---|---|---|")
        for part, rows in results[name]["parts"].items():
            for p in rows:
                print(
                    f"| {part} | {p['pid']} | {p['role']} | {p['rss']:.0f} | {p['pss']:.0f} "
                    f"| {p['anon']:.0f} | {p['file']:.0f} |"
                )
    print("\n| layout | ready s | chat turn p50 / p95 ms | search API p50 / p95 ms | recommended "
          "| demands |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for name, r in results.items():
        print(
            f"| {name} | {r['ready_s']:.0f} | {r['turn_p50']:.0f} / {r['turn_p95']:.0f} "
            f"| {r['search_p50']:.1f} / {r['search_p95']:.1f} | {r['recommended']}/{len(NEEDS)} "
            f"| {r['demands']}/{len(NEEDS)} |"
        )


if __name__ == "__main__":
    main()
