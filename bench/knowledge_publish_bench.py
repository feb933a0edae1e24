"""Time from "publish" to the bot answering with the new knowledge, on the real stack.

    .venv/bin/python bench/knowledge_publish_bench.py [--runs 7]

Starts its own Rasa server, action server and app (about a minute) on free ports with a fresh
SQLite database and a private copy of var/index (nothing is published into the shared index).
Each run a staff member changes an FAQ's answer through the API, then the clock starts at
POST /api/knowledge/publish and stops when a new web-chat conversation asking the FAQ's question
gets the new text back (the action server is its own process: it reads the new index version at
its next query). The job's own run (started → done) is shown beside it; one chat turn takes about
0.3 s, which bounds the resolution.
"""

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from pydantic import SecretStr  # noqa: E402

from app.settings import AppSettings  # noqa: E402
from app.stack import Stack  # noqa: E402
from retrieval.index import copy_live  # noqa: E402
from tests.support import free_port  # noqa: E402

QUESTION = "提交需求后多久会有人联系我"
PASSWORD = "bench-pass-" + secrets.token_hex(4)


def _login(base: str, username: str, password: str) -> dict[str, str]:
    response = httpx.post(
        f"{base}/api/auth/login", json={"username": username, "password": password}, timeout=10
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['token']}"}


def _ask(base: str) -> str:
    response = httpx.post(
        f"{base}/api/chat/messages",
        json={"conversation_id": f"web:bench-{secrets.token_hex(6)}", "text": QUESTION},
        timeout=60,
    )
    response.raise_for_status()
    return "\n".join(m.get("text") or "" for m in response.json()["messages"])


def _seconds(start: str | None, end: str | None) -> float:
    if not start or not end:
        return float("nan")
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def run(runs: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="qclinic-publish-bench-"))
    copy_live(ROOT / "var" / "index", folder / "index")
    os.environ["QCLINIC_INDEX_DIR"] = str(folder / "index")
    # this checkout's sample (another checkout may have built var/index from its own YAML)
    subprocess.run([sys.executable, "-m", "retrieval", "build"], cwd=ROOT, check=True)
    admin_password = "bench-admin-" + secrets.token_hex(6)
    settings = AppSettings(
        database_url=f"sqlite:///{folder / 'desk.db'}",
        port=free_port(),
        rasa_port=free_port(),
        actions_port=free_port(),
        service_token=SecretStr("bench-service-" + secrets.token_hex(8)),
        rasa_token=SecretStr("bench-rasa-" + secrets.token_hex(8)),
        admin_password=SecretStr(admin_password),
    )
    stack = Stack(settings=settings, log_dir=folder / "logs")
    started = time.perf_counter()
    stack.start()
    try:
        stack.wait_ready(timeout_s=300)
        print(f"stack ready in {time.perf_counter() - started:.0f}s (logs: {stack.log_dir})")
        base = settings.desk_url
        admin = _login(base, settings.admin_user, admin_password)
        httpx.post(
            f"{base}/api/users",
            headers=admin,
            json={"username": "bench.staff", "display_name": "测", "role": "staff",
                  "password": PASSWORD},
            timeout=10,
        ).raise_for_status()  # fmt: skip
        staff = _login(base, "bench.staff", PASSWORD)
        hit = httpx.post(
            f"{base}/api/knowledge/search-test",
            headers=staff,
            json={"q": QUESTION, "kinds": ["faq"], "k": 1},
            timeout=30,
        ).json()["kinds"][0]["hits"][0]["id"]
        _ask(base)  # warm both processes
        rows = []
        for n in range(1, runs + 1):
            entry = httpx.get(f"{base}/api/knowledge/entries/{hit}", headers=staff).json()
            text = f"提交需求后，平台在1个工作日内联系您（第{n}次修改，{secrets.token_hex(2)}）。"
            body = {"payload": entry["payload"] | {"answer": text},
                    "expected_version": entry["version"]}  # fmt: skip
            httpx.put(
                f"{base}/api/knowledge/entries/{hit}", headers=staff, json=body, timeout=10
            ).raise_for_status()
            clicked = time.perf_counter()
            job = httpx.post(f"{base}/api/knowledge/publish", headers=staff, json={}, timeout=30)
            job.raise_for_status()
            turns = 0
            while True:
                turns += 1
                if text in _ask(base):
                    break
                if time.perf_counter() - clicked > 120:
                    raise TimeoutError("the bot never answered with the new text")
            answered = time.perf_counter() - clicked
            state = httpx.get(
                f"{base}/api/knowledge/publish/{job.json()['id']}", headers=staff
            ).json()
            rows.append((n, answered, _seconds(state["started_at"], state["finished_at"]), turns))
        print(f"\nFAQ {hit}: publish → bot answers with the new text ({runs} runs)\n")
        print(f"{'run':>4} {'publish→answer s':>17} {'job run s':>10} {'chat turns':>11}")
        for n, answered, job_s, turns in rows:
            print(f"{n:>4} {answered:>17.2f} {job_s:>10.2f} {turns:>11}")
        times = [r[1] for r in rows]
        jobs = [r[2] for r in rows]
        print(
            f"\nmedian {statistics.median(times):.2f}s  min {min(times):.2f}s  "
            f"max {max(times):.2f}s  (job run alone: median {statistics.median(jobs):.2f}s)"
        )
    finally:
        stack.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    run(args.runs)


if __name__ == "__main__":
    main()
