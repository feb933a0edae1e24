"""`make run`'s launcher: starts everything, prints the URLs, stops every process on Ctrl-C."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from desk.paths import REPO_ROOT
from tests.support import free_port


def test_launcher_starts_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    ports = {
        "QCLINIC_PORT": free_port(),
        "QCLINIC_RASA_PORT": free_port(),
        "QCLINIC_ACTIONS_PORT": free_port(),
    }
    env = dict(
        os.environ,
        QCLINIC_DATABASE_URL=f"sqlite:///{tmp_path / 'desk.db'}",
        QCLINIC_ADMIN_PASSWORD="launch-test-pass",
        PYTHONUNBUFFERED="1",
        **{k: str(v) for k, v in ports.items()},
    )
    launcher = subprocess.Popen(
        [sys.executable, "-m", "app.launch"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    try:
        assert launcher.stdout is not None
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            line = launcher.stdout.readline()
            lines.append(line)
            if "按 Ctrl-C 停止" in line or not line:
                break
        output = "".join(lines)
        assert f"http://127.0.0.1:{ports['QCLINIC_PORT']}/" in output, output
        assert httpx.get(f"http://127.0.0.1:{ports['QCLINIC_PORT']}/health").status_code == 200
    finally:
        launcher.send_signal(signal.SIGINT)
        rest, _ = launcher.communicate(timeout=60)
    assert launcher.returncode == 0
    assert "已停止" in rest
    for port in ports.values():
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
        except httpx.ConnectError:
            continue
        raise AssertionError(f"port {port} still answers after Ctrl-C")
