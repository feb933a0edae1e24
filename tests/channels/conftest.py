"""Channel fixtures: our app on a real port, a Rasa timing double, WeChat's API played locally."""

import base64
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.main import create_app
from app.settings import AppSettings
from channels.models import InboundMessage, OutboxMessage, WeChatContact
from channels.transcript import ChatMessage
from desk.customers.settings import PrivacySettings, get_privacy_settings
from desk.db import get_sessionmaker
from desk.provided import provided
from tests.channels.servers import (
    FakeRasa,
    FakeWeChat,
    ServerThread,
    fake_rasa_app,
    wait_until,
    wechat_api_app,
)
from tests.channels.wechat_calls import WeChatPlatform, text_xml
from tests.support import free_port
from tests.tcp_proxy import TcpProxy


def new_aes_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode().rstrip("=")


@dataclass
class Live:
    """Our app served on a loopback port, with its Rasa double and WeChat's API."""

    settings: AppSettings
    app: ServerThread
    rasa: FakeRasa
    rasa_server: ServerThread | None
    wechat: FakeWeChat
    wechat_server: ServerThread
    platform: WeChatPlatform
    extra: list[ServerThread] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.app.url

    def session(self) -> Session:
        assert self.settings.database_url
        return get_sessionmaker(self.settings.database_url)()

    def rows(self, model: Any, **where: Any) -> list[Any]:
        with self.session() as session:
            query = select(model).where(*(getattr(model, k) == v for k, v in where.items()))
            return list(session.scalars(query.order_by(*model.__table__.primary_key.columns)))

    def inbound(self, conversation_id: str) -> list[InboundMessage]:
        return self.rows(InboundMessage, conversation_id=conversation_id)

    def transcript(self, conversation_id: str) -> list[tuple[str, str]]:
        return [(r.sender, r.text) for r in self.rows(ChatMessage, conversation_id=conversation_id)]

    def outbox(self, openid: str) -> list[OutboxMessage]:
        return self.rows(OutboxMessage, openid=openid)

    def contact(self, openid: str) -> WeChatContact | None:
        rows = self.rows(WeChatContact, openid=openid)
        return rows[0] if rows else None

    def greet(self, openid: str, text: str = "你好") -> None:
        """A follower writes to the account and is answered: passively, or, when the turn
        outlasted the 1 s deadline on a loaded machine, by a customer-service message (then
        forgotten, so that the test sees only what comes after)."""
        answer = f"收到：{text}"
        if self.platform.say(text_xml(openid, text)) == answer:
            return
        wait_until(lambda: self.wechat.texts(openid) == [answer], timeout=30)
        self.wechat.forget(openid)

    def rasa_down(self) -> None:
        assert self.rasa_server is not None
        self.rasa_server.stop()
        self.rasa_server = None

    def rasa_up(self) -> None:
        assert self.rasa_server is None
        self.rasa_server = ServerThread(fake_rasa_app(self.rasa), port=self.settings.rasa_port)
        self.rasa_server.start()

    def second_app(self) -> ServerThread:
        """Another app instance on the same database: what a second process shares."""
        server = ServerThread(create_app(self.settings)).start()
        self.extra.append(server)
        return server


def base_settings(tmp_path: Path, database_url: str) -> AppSettings:
    return AppSettings(
        var_dir=tmp_path / "var",
        database_url=database_url,
        service_token=SecretStr("test-service-" + secrets.token_hex(8)),
        rasa_token=SecretStr("test-rasa-" + secrets.token_hex(8)),
        admin_password=SecretStr("admin-pass-123"),
    )


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'desk.db'}"


LiveFactory = Callable[..., Live]


def _make_live(tmp_path: Path, database_url: str, stack: list[Live]) -> LiveFactory:
    def make(*, safe: bool = True, rasa_running: bool = True, **overrides: Any) -> Live:
        rasa = FakeRasa()
        rasa_port = free_port()
        rasa_server = ServerThread(fake_rasa_app(rasa), port=rasa_port)
        if rasa_running:
            rasa_server.start()
        app_id = "wx" + secrets.token_hex(8)
        wechat = FakeWeChat(app_id=app_id, secret=secrets.token_hex(16))
        wechat_server = ServerThread(wechat_api_app(wechat)).start()
        token = "tk" + secrets.token_hex(8)
        aes_key = new_aes_key() if safe else None
        values: dict[str, Any] = {
            "rasa_port": rasa_port,
            "actions_port": rasa_port,
            "rasa_timeout_s": 3.0,
            "wechat_token": SecretStr(token),
            "wechat_app_id": app_id,
            "wechat_app_secret": SecretStr(wechat.secret),
            "wechat_aes_key": SecretStr(aes_key) if aes_key else None,
            "wechat_api_base": wechat_server.url,
            "wechat_reply_deadline_s": 1.0,
            "retry_interval_s": 0.2,
            "turn_settle_s": 1.0,
            "web_reply_deadline_s": 1.0,
            "chat_stream_poll_s": 0.5,
        }
        values.update(overrides)
        settings = base_settings(tmp_path, database_url).model_copy(update=values)
        app = ServerThread(create_app(settings)).start()
        live = Live(
            settings=settings,
            app=app,
            rasa=rasa,
            rasa_server=rasa_server if rasa_running else None,
            wechat=wechat,
            wechat_server=wechat_server,
            platform=WeChatPlatform(app.url, token=token, aes_key=aes_key, app_id=app_id),
        )
        stack.append(live)
        return live

    return make


def _stop(lives: list[Live]) -> None:
    for live in lives:
        live.platform.close()
        for server in [live.app, *live.extra, live.wechat_server, live.rasa_server]:
            if server is not None:
                server.stop()


@pytest.fixture
def live(tmp_path: Path, sqlite_url: str) -> Iterator[LiveFactory]:
    """Make a live app (SQLite)."""
    lives: list[Live] = []
    yield _make_live(tmp_path, sqlite_url, lives)
    _stop(lives)


@pytest.fixture
def live_any_db(tmp_path: Path, database_url: str) -> Iterator[LiveFactory]:
    """Make a live app, once on SQLite and once on PostgreSQL."""
    lives: list[Live] = []
    yield _make_live(tmp_path, database_url, lives)
    _stop(lives)


@pytest.fixture
def client(app_settings: AppSettings) -> Iterator[TestClient]:
    """The whole app in-process, channels included (the desk's tests use the desk alone)."""
    app = create_app(app_settings)
    provided(app)[get_privacy_settings] = lambda: PrivacySettings(require_consent=False)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    """PostgreSQL reached through a proxy that a test can take away, as a restart does."""
    proxy = TcpProxy(5432)
    yield proxy
    proxy.close()
