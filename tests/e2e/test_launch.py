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


def launch(tmp_path: Path) -> tuple[subprocess.Popen[str], dict[str, int]]:
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
    return launcher, ports


def read_until(launcher: subprocess.Popen[str], words: str, timeout_s: float) -> str:
    """The launcher's output up to the line that holds ``words``."""
    assert launcher.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = launcher.stdout.readline()
        lines.append(line)
        if words in line or not line:
            break
    return "".join(lines)


def test_launcher_starts_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    launcher, ports = launch(tmp_path)
    try:
        output = read_until(launcher, "按 Ctrl-C 停止", 240)
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


def pid_listening_on(port: int) -> int:
    """The pid of the process whose command line serves ``-p <port>`` (our three parts do)."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"-p" in argv and str(port).encode() in argv and b"bot.server" in argv:
            return int(proc.name)
    raise AssertionError(f"no Rasa server on port {port}")


def test_a_killed_rasa_server_is_restarted_and_the_message_sent_meanwhile_is_answered(
    tmp_path: Path,
) -> None:
    launcher, ports = launch(tmp_path)
    app = f"http://127.0.0.1:{ports['QCLINIC_PORT']}"
    rasa_status = f"http://127.0.0.1:{ports['QCLINIC_RASA_PORT']}/"
    conversation = "web:launch-restart-0001"
    try:
        read_until(launcher, "按 Ctrl-C 停止", 240)
        os.kill(pid_listening_on(ports["QCLINIC_RASA_PORT"]), signal.SIGKILL)
        said = read_until(launcher, "秒后重启", 30)
        assert "rasa 已退出（-9），1 秒后重启（第 1 次）" in said, said

        # Rasa is down: the user still gets an answer at once, and the message is kept.
        started = time.monotonic()
        reply = httpx.post(
            f"{app}/api/chat/messages",
            json={"conversation_id": conversation, "text": "你好"},
            timeout=30,
        )
        assert reply.status_code == 200
        assert time.monotonic() - started < 10
        assert "暂时无法回复" in reply.json()["messages"][0]["text"]

        assert "rasa 已重启" in read_until(launcher, "已重启", 30)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:  # back, and the kept message answered
            try:
                if httpx.get(rasa_status, timeout=2).status_code == 200:
                    history = httpx.get(
                        f"{app}/api/chat/history", params={"conversation_id": conversation}
                    ).json()["messages"]
                    bot = [m for m in history if m["sender"] == "bot"]
                    if any("暂时无法回复" not in m["text"] for m in bot):
                        break
            except httpx.HTTPError:
                pass
            time.sleep(1)
        else:
            raise AssertionError("the message kept while Rasa was down was never answered")
        users = [m for m in history if m["sender"] == "user"]
        assert [m["text"] for m in users] == ["你好"]  # kept once, answered once
        assert launcher.poll() is None  # the launcher kept the rest of the assistant up
    finally:
        launcher.send_signal(signal.SIGINT)
        launcher.communicate(timeout=60)
    assert launcher.returncode == 0
