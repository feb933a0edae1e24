"""Rasa's server and the action server mask personal data in their logs, as the app does."""

import os
import signal
import subprocess
import time

import httpx

from desk.paths import REPO_ROOT
from tests.support import action_server, free_port

RASA_PYTHON = REPO_ROOT / ".venv-rasa" / "bin" / "python"
MOBILE, ID_NUMBER = "13912345678", "110101199003074514"


def test_rasa_environment_masks_its_log_records() -> None:
    script = (
        "import logging, sys\n"
        "from bot.server import log_masking\n"
        "log_masking.install()\n"
        "logging.basicConfig(stream=sys.stdout, format='%(message)s')\n"
        "logging.getLogger('rasa.core.processor')"
        f".warning('用户 %s 身份证 %s', '{MOBILE}', '{ID_NUMBER}')\n"
        f"logging.getLogger('sanic.error').error('failed for {MOBILE}')\n"
    )
    done = subprocess.run(
        [str(RASA_PYTHON), "-c", script],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.splitlines() == [
        "用户 139****5678 身份证 11**************14",
        "failed for 139****5678",
    ]


def test_the_action_server_masks_what_it_logs() -> None:
    port = free_port()
    server = action_server(port)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        # an unknown action whose name carries a mobile: rasa_sdk logs the name as an error
        answer = httpx.post(
            f"http://127.0.0.1:{port}/webhook",
            json={
                "next_action": f"action_for_{MOBILE}",
                "tracker": {"sender_id": "web:x", "slots": {}, "events": [], "latest_message": {}},
                "domain": {},
                "version": "3.6.21",
            },
            timeout=10,
        )
        assert answer.status_code == 404
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            output, _ = server.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            output, _ = server.communicate(timeout=20)
    assert "action_for_139****5678" in output  # it was logged …
    assert MOBILE not in output  # … masked
