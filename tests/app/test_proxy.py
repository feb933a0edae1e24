"""nginx in front of the replicas (app/proxy.py): the rendered configuration, run for real.

nginx runs unprivileged from a temporary prefix in front of two small echo servers standing in
for app replicas; what a user would notice is checked: the client's address reaches the app
whatever the client claims, a replica that is down is skipped, a body over the limit and no
replica at all get Chinese JSON answers.
"""

import json
import os
import pwd
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from app import proxy
from app.settings import AppSettings
from tests.support import free_port


class Echo(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        body = json.dumps(
            {
                "replica": self.server.server_port,
                "forwarded_for": self.headers.get("X-Forwarded-For"),
                "request_id": self.headers.get("X-Request-ID"),
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        return None


def serve() -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def nginx() -> Iterator[tuple[str, list[ThreadingHTTPServer], Path]]:
    replicas = [serve(), serve()]
    prefix = Path(tempfile.mkdtemp(prefix="qclinic-nginx-test-"))
    port = free_port()
    text = proxy.render(
        listen=f"127.0.0.1:{port}",
        apps=[f"127.0.0.1:{r.server_port}" for r in replicas],
        prefix=prefix,
        max_body_bytes=64 * 1024,
        daemon=False,
        workers="1",
    )
    proxy.write(prefix, text)
    user: dict[str, int] = {}
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        for folder, _dirs, files in os.walk(prefix):
            os.chown(folder, nobody.pw_uid, nobody.pw_gid)
            for name in files:
                os.chown(Path(folder) / name, nobody.pw_uid, nobody.pw_gid)
        user = {"user": nobody.pw_uid, "group": nobody.pw_gid}
    process = subprocess.Popen(proxy.command(prefix), stderr=subprocess.PIPE, **user)  # type: ignore[call-overload]
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while True:
        try:
            httpx.get(f"{url}/health", timeout=1)
            break
        except httpx.TransportError:
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline
            time.sleep(0.05)
    try:
        yield url, replicas, prefix
    finally:
        process.terminate()
        process.wait(10)
        for replica in replicas:
            replica.shutdown()
        shutil.rmtree(prefix, ignore_errors=True)


def test_the_rendered_configuration_passes_nginx_own_check(tmp_path: Path) -> None:
    settings = AppSettings()
    text = proxy.render(
        listen="127.0.0.1:8080",
        apps=["127.0.0.1:8001", "127.0.0.1:8002"],
        prefix=tmp_path,
        max_body_bytes=proxy.body_limit(settings),
    )
    assert f"client_max_body_size {settings.uploads.max_bytes + 64 * 1024};" in text
    assert "server 127.0.0.1:8001 " in text and "server 127.0.0.1:8002 " in text
    config = proxy.write(tmp_path, text)
    check = subprocess.run(
        [*proxy.command(tmp_path), "-t"], capture_output=True, text=True, timeout=30
    )
    assert check.returncode == 0, check.stderr
    assert config.exists()


def test_the_app_sees_the_client_not_what_the_client_claims(
    nginx: tuple[str, list[ThreadingHTTPServer], Path],
) -> None:
    url, _replicas, _prefix = nginx
    answer = httpx.get(
        f"{url}/api/search", headers={"X-Forwarded-For": "203.0.113.9", "X-Request-ID": "r-1"}
    )
    assert answer.json()["forwarded_for"] == "127.0.0.1"  # replaced, not appended to
    assert answer.json()["request_id"] == "r-1"


def test_requests_spread_over_replicas_and_skip_one_that_is_down(
    nginx: tuple[str, list[ThreadingHTTPServer], Path],
) -> None:
    url, replicas, prefix = nginx
    served = {httpx.post(f"{url}/api/chat/messages", json={}).json()["replica"] for _ in range(6)}
    assert served == {r.server_port for r in replicas}
    replicas[0].shutdown()
    replicas[0].server_close()
    answers = [httpx.post(f"{url}/api/chat/messages", json={}) for _ in range(6)]
    assert {a.status_code for a in answers} == {200}  # the refused connection is retried
    assert {a.json()["replica"] for a in answers} == {replicas[1].server_port}
    log = (prefix / "access.log").read_text()
    assert "rid=" in log and "upstream=" in log and "203.0.113" not in log


def test_too_large_and_no_replica_answer_in_chinese_json(
    nginx: tuple[str, list[ThreadingHTTPServer], Path],
) -> None:
    url, replicas, _prefix = nginx
    big = httpx.post(f"{url}/api/chat/messages", content=b"x" * (65 * 1024))
    assert big.status_code == 413
    assert big.json()["detail"]["code"] == "body_too_large"
    assert "请求内容过大" in big.json()["detail"]["message"]
    for replica in replicas:
        replica.shutdown()
        replica.server_close()
    gone = httpx.get(f"{url}/api/search")
    assert gone.status_code == 503
    assert gone.json()["detail"] == {"code": "unavailable", "message": "服务暂时繁忙，请稍后重试。"}
    assert gone.headers["Retry-After"] == "2"
