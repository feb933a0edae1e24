"""The action server's /health answers at once and says ``warming`` until its model and index
are loaded, then ``ok`` (bot/actions/server.py, retrieval/warmup.py)."""

import time
from pathlib import Path

import httpx

from tests.support import action_server, free_port

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_health_says_warming_until_the_model_and_index_are_loaded() -> None:
    port = free_port()
    server = action_server(port, QCLINIC_WARM_UP="1")  # as the launcher starts it
    said: list[str] = []
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and said[-1:] != ["ok"]:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
            except httpx.HTTPError:
                time.sleep(0.1)
                continue
            assert answer.status_code == 200  # up: it takes calls while it loads
            status = answer.json()["status"]
            if said[-1:] != [status]:
                said.append(status)
            time.sleep(0.05)
    finally:
        server.terminate()
        out, _ = server.communicate(timeout=30)
    assert said in (["warming", "ok"], ["ok"]), out[-2000:]
    assert "retrieval warmed up" in out
    print(f"\n[health] the action server said {said}")
