"""A second app process with the WeChat channel on, against the real stack (as a second replica
would be), WeChat's API played by a local server (its real servers cannot be reached from here),
and a follower writing to it through encrypted callbacks.

Every callback must be answered within WeChat's 5 seconds: passively when the turn is quick, else
'success' and a customer-service message.
"""

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.stack import Stack, child_env
from desk.paths import REPO_ROOT
from tests.channels.conftest import new_aes_key
from tests.channels.servers import FakeWeChat, ServerThread, wait_until, wechat_api_app
from tests.channels.wechat_calls import WeChatPlatform, text_xml
from tests.support import free_port


@dataclass
class WeChatApp:
    url: str
    platform: WeChatPlatform
    wechat: FakeWeChat
    rasa_url: str
    rasa_token: str


@pytest.fixture(scope="module")
def wechat_app(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WeChatApp]:
    with running_wechat_app(stack, tmp_path_factory.mktemp("wechat-app")) as app:
        yield app


@contextmanager
def running_wechat_app(
    stack: Stack,
    log_dir: Path,
    *,
    env: dict[str, str] | None = None,
    templates: frozenset[str] = frozenset(),
) -> Iterator[WeChatApp]:
    """An app process with the WeChat channel on; ``env`` adds settings (template ids), and
    ``templates`` are the template ids the stand-in's account has."""
    wechat = FakeWeChat(app_id="wx" + secrets.token_hex(8), secret=secrets.token_hex(16))
    wechat.templates |= templates
    api = ServerThread(wechat_api_app(wechat)).start()
    token, aes_key, port = "tk" + secrets.token_hex(8), new_aes_key(), free_port()
    child = child_env(stack.settings)
    child.update(
        {
            "QCLINIC_PORT": str(port),
            "QCLINIC_WARM_UP": "0",
            "QCLINIC_WECHAT_TOKEN": token,
            "QCLINIC_WECHAT_APP_ID": wechat.app_id,
            "QCLINIC_WECHAT_APP_SECRET": wechat.secret,
            "QCLINIC_WECHAT_AES_KEY": aes_key,
            "QCLINIC_WECHAT_API_BASE": api.url,
            "QCLINIC_RETRY_INTERVAL_S": "0.5",
            **(env or {}),
        }
    )
    log_path = log_dir / "app.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "app.asgi:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-access-log",
            ],
            cwd=REPO_ROOT,
            env=child,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _healthy(url, process), timeout=90, step=0.3)
        platform = WeChatPlatform(url, token=token, aes_key=aes_key, app_id=wechat.app_id)
        yield WeChatApp(
            url, platform, wechat, stack.settings.rasa_url, stack.settings.secret("rasa_token")
        )
        platform.close()
    except Exception:
        print(log_path.read_text(errors="replace")[-4000:])
        raise
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(15)
        api.stop()


def _healthy(url: str, process: subprocess.Popen) -> bool:  # type: ignore[type-arg]
    if process.poll() is not None:
        raise RuntimeError(f"wechat app exited ({process.returncode})")
    try:
        return httpx.get(f"{url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@dataclass
class Follower:
    app: WeChatApp
    openid: str = field(default_factory=lambda: "oE2E" + secrets.token_urlsafe(16))
    timings: list[tuple[str, float, str]] = field(default_factory=list)

    @property
    def conversation_id(self) -> str:
        return f"wx:{self.openid}"

    def send(self, xml: str, label: str) -> str:
        """The bot's words for one message: the passive reply and what follows by 客服消息."""
        before = len(self.app.wechat.texts(self.openid))
        started = time.monotonic()
        response = self.app.platform.post(xml)
        elapsed = time.monotonic() - started
        reply = self.app.platform.reply(response)
        self.timings.append((label, elapsed, "passive" if reply else "async"))
        assert elapsed < 5.0, f"{label}: answered after {elapsed:.2f}s"
        texts = [str(reply["Content"])] if reply else []
        if reply is None:  # the turn outlived the deadline: it comes as a customer-service msg
            wait_until(lambda: len(self.app.wechat.texts(self.openid)) > before, timeout=60)
        time.sleep(0.3)  # a long answer's overflow follows by customer-service message
        texts.extend(self.app.wechat.texts(self.openid)[before:])
        assert texts, f"no answer to {label}"
        return "\n".join(texts)

    def write(self, text: str) -> str | None:
        """One text callback whose answer may be nothing ('success'): the passive reply or None."""
        started = time.monotonic()
        response = self.app.platform.post(text_xml(self.openid, text))
        elapsed = time.monotonic() - started
        assert elapsed < 5.0, f"{text}: answered after {elapsed:.2f}s"
        reply = self.app.platform.reply(response)
        return None if reply is None else str(reply["Content"])

    def say(self, text: str, **kwargs: Any) -> str:
        return self.send(text_xml(self.openid, text, **kwargs), text)

    def tracker(self) -> dict[str, Any]:
        response = httpx.get(
            f"{self.app.rasa_url}/conversations/{self.conversation_id}/tracker",
            params={"token": self.app.rasa_token},
            timeout=10,
        )
        response.raise_for_status()
        tracker: dict[str, Any] = response.json()
        return tracker

    def requested_slot(self) -> str | None:
        slot: str | None = self.tracker()["slots"].get("requested_slot")
        return slot
