"""Small helpers shared by the tests."""

import socket
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def action_server(port: int, **env: str) -> "subprocess.Popen[str]":
    """The action server alone on loopback, its output captured as text; it runs in its own
    process group (its Sanic worker stops with the group). ``env`` adds to a bare environment."""
    return subprocess.Popen(
        [sys.executable, "-m", "bot.actions.server", "-p", str(port)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={"PATH": "/usr/bin:/bin", "SANIC_HOST": "127.0.0.1", "PYTHONUNBUFFERED": "1", **env},
        start_new_session=True,
    )
