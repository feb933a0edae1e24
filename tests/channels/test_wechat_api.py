"""WeChat's API side: the shared access token, 40001, timeouts, the outbox quota, the menu.

WeChat's servers cannot be reached from here: a local server plays their API (tokens,
customer-service messages, menus) and checks payloads and token use.
"""

import io
import secrets
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import redirect_stdout
from datetime import timedelta
from pathlib import Path

import pytest
import redis
import requests
from sqlalchemy import select, update

from app.database import migrate
from channels.conversations import Incoming
from channels.models import OutboxMessage, WeChatContact, utcnow
from channels.wechat.client import ApiClient, WeChatApiError, storage_and_lock
from channels.wechat.menu import MENU_INTENTS
from channels.wechat.outbox import MORE_WAITING, WeChatOutbox
from desk.db import get_sessionmaker
from tests.channels.conftest import base_settings
from tests.channels.servers import FakeWeChat, ServerThread, wechat_api_app

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def fake() -> Iterator[tuple[FakeWeChat, ServerThread]]:
    wechat = FakeWeChat(app_id="wx" + secrets.token_hex(8), secret=secrets.token_hex(16))
    server = ServerThread(wechat_api_app(wechat)).start()
    yield wechat, server
    server.stop()
    connection = redis.Redis.from_url(REDIS_URL)
    for key in connection.scan_iter(f"qclinic:wechat*{wechat.app_id}*"):
        connection.delete(key)


def client_for(
    fake: tuple[FakeWeChat, ServerThread], *, shared: bool = False, timeout_s: float = 3.0
) -> ApiClient:
    wechat, server = fake
    storage, lock = storage_and_lock(REDIS_URL if shared else None, wechat.app_id)
    return ApiClient(
        wechat.app_id,
        wechat.secret,
        api_base=server.url,
        timeout_s=timeout_s,
        storage=storage,
        lock=lock,
    )


# -- access token ------------------------------------------------------------------------------


def test_processes_share_one_token_through_redis(fake: tuple[FakeWeChat, ServerThread]) -> None:
    wechat, _ = fake
    first, second = client_for(fake, shared=True), client_for(fake, shared=True)
    first.send_text("o-user-1", "你好")
    second.send_text("o-user-1", "再见")
    assert len(wechat.tokens_issued) == 1
    assert wechat.texts() == ["你好", "再见"]


def test_invalid_credential_refreshes_once_and_retries_once(
    fake: tuple[FakeWeChat, ServerThread],
) -> None:
    wechat, _ = fake
    client = client_for(fake)
    client.send_text("o-user-1", "一")
    wechat.revoke_all()  # the token went stale (another fetch elsewhere, WeChat's reset …)
    client.send_text("o-user-1", "二")
    assert len(wechat.tokens_issued) == 2
    assert wechat.send_attempts == 3  # 一, 二 refused with 40001, 二 again
    assert wechat.texts() == ["一", "二"]


def test_a_token_refused_again_is_not_retried_without_end(
    fake: tuple[FakeWeChat, ServerThread],
) -> None:
    wechat, _ = fake
    client = client_for(fake)
    client.send_text("o-user-1", "一")
    wechat.revoke_all()
    original = wechat.valid
    wechat.valid = _NeverValid()
    with pytest.raises(WeChatApiError) as error:
        client.send_text("o-user-1", "二")
    assert error.value.errcode == 40001
    assert wechat.send_attempts == 3  # 一, then 二 twice: one refresh, one retry
    assert len(wechat.tokens_issued) == 2
    wechat.valid = original


class _NeverValid(set):  # type: ignore[type-arg]
    def __contains__(self, item: object) -> bool:
        return False


def test_concurrent_refreshes_fetch_once(fake: tuple[FakeWeChat, ServerThread]) -> None:
    wechat, _ = fake
    clients = [client_for(fake, shared=True) for _ in range(4)]
    clients[0].send_text("o-user-1", "warm")
    wechat.revoke_all()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda c: c.send_text("o-user-1", "again"), clients))
    assert len(wechat.tokens_issued) == 2  # one refresh for all four
    assert wechat.texts().count("again") == 4


def test_every_call_has_a_timeout(fake: tuple[FakeWeChat, ServerThread]) -> None:
    wechat, _ = fake
    client = client_for(fake, timeout_s=0.5)
    client.access_token  # noqa: B018 - fetch the token first
    wechat.send_delay_s = 3.0
    started = time.monotonic()
    with pytest.raises(requests.Timeout):
        client.send_text("o-user-1", "慢")
    assert time.monotonic() - started < 1.5

    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        mute = ApiClient(
            wechat.app_id, wechat.secret, api_base=f"http://127.0.0.1:{port}", timeout_s=0.5
        )
        started = time.monotonic()
        with pytest.raises(requests.Timeout):
            mute.access_token  # noqa: B018 - wechatpy's own token fetch has no timeout
        assert time.monotonic() - started < 1.5


# -- the outbox ------------------------------------------------------------------------------


@pytest.fixture
def outbox_for(
    fake: tuple[FakeWeChat, ServerThread], database_url: str
) -> Iterator[tuple[WeChatOutbox, FakeWeChat]]:
    wechat, _ = fake
    migrate(database_url)
    client = client_for(fake)
    outbox = WeChatOutbox(
        sessions=get_sessionmaker(database_url),
        client=lambda: client,
        quota=5,
        window=timedelta(hours=48),
        retry_interval_s=0.1,
    )
    yield outbox, wechat


def contact(outbox: WeChatOutbox, openid: str) -> None:
    with outbox.sessions() as session:
        outbox.on_contact(
            session,
            Incoming(
                conversation_id=f"wx:{openid}", channel="wechat", text="你好", bot_text="你好"
            ),
        )
        session.commit()


def queue(outbox: WeChatOutbox, openid: str, texts: list[str]) -> None:
    with outbox.sessions() as session:
        outbox.enqueue_texts(session, f"wx:{openid}", texts, None)
        session.commit()


def statuses(outbox: WeChatOutbox, openid: str) -> list[str]:
    with outbox.sessions() as session:
        return list(
            session.scalars(
                select(OutboxMessage.status)
                .where(OutboxMessage.openid == openid)
                .order_by(OutboxMessage.id)
            )
        )


def test_quota_is_counted_and_the_rest_held_for_the_next_contact(
    outbox_for: tuple[WeChatOutbox, FakeWeChat],
) -> None:
    outbox, wechat = outbox_for
    user = "o-quota-" + secrets.token_hex(4)
    contact(outbox, user)
    texts = [f"第{i}条：" + "检测" * 300 for i in range(1, 8)]  # too big to merge
    queue(outbox, user, texts)
    outbox.send_to(user)
    sent = wechat.texts(user)
    assert len(sent) == 5
    assert sent[:4] == texts[:4]
    assert sent[4] == texts[4] + "\n" + MORE_WAITING.format(n=2)
    assert statuses(outbox, user) == ["sent"] * 5 + ["held"] * 2

    outbox.send_to(user)  # nothing more while the quota is spent
    assert len(wechat.texts(user)) == 5

    contact(outbox, user)  # the user writes again: a new window
    outbox.send_to(user)
    assert wechat.texts(user)[5:] == texts[5:]
    assert statuses(outbox, user) == ["sent"] * 7


def test_small_messages_are_merged_into_one(outbox_for: tuple[WeChatOutbox, FakeWeChat]) -> None:
    outbox, wechat = outbox_for
    user = "o-merge-" + secrets.token_hex(4)
    contact(outbox, user)
    queue(outbox, user, ["收到：一", "收到：二", "收到：三"])
    outbox.send_to(user)
    assert wechat.texts(user) == ["收到：一\n\n收到：二\n\n收到：三"]
    with outbox.sessions() as session:
        sent = session.scalar(select(WeChatContact.window_sent).where(WeChatContact.openid == user))
    assert sent == 1


def test_closed_window_keeps_messages_until_the_next_contact(
    outbox_for: tuple[WeChatOutbox, FakeWeChat],
) -> None:
    outbox, wechat = outbox_for
    user = "o-window-" + secrets.token_hex(4)
    contact(outbox, user)
    with outbox.sessions() as session:
        session.execute(
            update(WeChatContact)
            .where(WeChatContact.openid == user)
            .values(last_contact_at=utcnow() - timedelta(hours=49))
        )
        session.commit()
    queue(outbox, user, ["专家回复：请补充检测标准。"])
    outbox.send_to(user)
    assert wechat.texts(user) == [] and wechat.send_attempts == 0
    assert statuses(outbox, user) == ["held"]
    contact(outbox, user)
    outbox.send_to(user)
    assert wechat.texts(user) == ["专家回复：请补充检测标准。"]


def test_45015_holds_the_message_instead_of_dropping_it(
    outbox_for: tuple[WeChatOutbox, FakeWeChat],
) -> None:
    outbox, wechat = outbox_for
    user = "o-45015-" + secrets.token_hex(4)
    contact(outbox, user)
    queue(outbox, user, ["第一条" + "。" * 600, "第二条" + "。" * 600])
    wechat.errors = [45015]  # WeChat says the window is closed, whatever we counted
    outbox.send_to(user)
    assert statuses(outbox, user) == ["held", "held"]
    with outbox.sessions() as session:
        row = session.scalars(select(OutboxMessage).where(OutboxMessage.openid == user)).first()
        assert row is not None and row.error_code == 45015
    contact(outbox, user)
    outbox.send_to(user)
    assert len(wechat.texts(user)) == 2


def test_unreachable_api_retries_later_and_refunds_the_quota(
    outbox_for: tuple[WeChatOutbox, FakeWeChat],
) -> None:
    outbox, wechat = outbox_for
    dead = ApiClient(wechat.app_id, wechat.secret, api_base="http://127.0.0.1:9", timeout_s=0.5)
    offline = WeChatOutbox(
        sessions=outbox.sessions,
        client=lambda: dead,
        quota=5,
        window=timedelta(hours=48),
        retry_interval_s=0.1,
    )
    user = "o-offline-" + secrets.token_hex(4)
    contact(offline, user)
    queue(offline, user, ["稍后送达"])
    dead.session.set(dead.access_token_key, "ACCESS-x", 600)  # the send fails to connect
    offline.send_to(user)
    assert statuses(offline, user) == ["pending"]
    with outbox.sessions() as session:
        row = session.scalars(select(OutboxMessage).where(OutboxMessage.openid == user)).one()
        spent = session.scalar(
            select(WeChatContact.window_sent).where(WeChatContact.openid == user)
        )
    assert row.attempts == 1 and row.next_attempt_at is not None
    assert spent == 0
    time.sleep(0.3)
    outbox.send_to(user)  # the API is back
    assert wechat.texts(user) == ["稍后送达"]


# -- the menu ----------------------------------------------------------------------------------


def test_menu_script_creates_the_menu(
    fake: tuple[FakeWeChat, ServerThread],
    tmp_path: Path,
) -> None:
    import importlib.util

    wechat, server = fake
    spec = importlib.util.spec_from_file_location(
        "wechat_menu", Path(__file__).resolve().parents[2] / "scripts" / "wechat_menu.py"
    )
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    settings = base_settings(tmp_path, f"sqlite:///{tmp_path / 'x.db'}").model_copy(
        update={
            "wechat_app_id": wechat.app_id,
            "wechat_app_secret": _secret(wechat.secret),
            "wechat_api_base": server.url,
        }
    )
    out = io.StringIO()
    with redirect_stdout(out):
        assert script.main(["--web-url", "https://qclinic.example.org/"], settings) == 0
    [menu] = wechat.menus
    keys = [b["key"] for top in menu["button"] for b in top["sub_button"] if b["type"] == "click"]
    assert sorted(keys) == sorted(MENU_INTENTS)
    views = [b for top in menu["button"] for b in top["sub_button"] if b["type"] == "view"]
    assert views == [{"type": "view", "name": "网页版咨询", "url": "https://qclinic.example.org/"}]
    assert "自定义菜单已创建" in out.getvalue() and not wechat.problems

    wechat.secret = "changed"  # a wrong secret: a clear message, exit code 1
    wechat.revoke_all()
    with redirect_stdout(io.StringIO()):
        assert script.main([], settings.model_copy(update={"redis_url": None})) == 1


def _secret(value: str):  # type: ignore[no-untyped-def]
    from pydantic import SecretStr

    return SecretStr(value)
