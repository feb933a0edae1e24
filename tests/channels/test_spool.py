"""Messages the database could not take in time: spooled on local disk, accepted once it is back.

PostgreSQL is the real server, reached through a :class:`TcpProxy` that takes it away as a
restart does; the bot is the core tests' instant double (tests/channels/test_conversations.py).
"""

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from app.database import migrate
from channels.contracts import Incoming
from channels.conversations import Conversations
from channels.gateway import BOT_UNAVAILABLE
from channels.models import InboundMessage
from channels.spool import Spool, spool_path
from channels.spool_order import SpoolOrder
from channels.transcript import ChatMessage
from channels.web.router import WebDeliverer
from desk.db import get_sessionmaker
from desk.live.notifier import Notifier
from tests.channels.test_conversations import InstantBot, web
from tests.tcp_proxy import TcpProxy


def spooling(
    url: str, bot: InstantBot, spool: Spool, order: SpoolOrder | None = None
) -> Conversations:
    """The conversations core of one app process with its spool (and, with replicas, the
    order kept in Redis), quick to retry."""
    core = Conversations(
        database_url=url,
        gateway=bot,
        notifier=Notifier(),
        turn_timeout_s=3.0,
        retry_interval_s=0.2,
        settle_s=1.0,
        spool=spool,
        spool_order=order,
    )
    core.register("web", WebDeliverer())
    return core


def stored(url: str, cid: str) -> tuple[list[tuple[str, str]], list[InboundMessage]]:
    """The conversation's transcript (sender, text) and its inbound rows, in order."""
    with get_sessionmaker(url)() as session:
        lines = [
            (m.sender, m.text)
            for m in session.scalars(
                select(ChatMessage)
                .where(ChatMessage.conversation_id == cid)
                .order_by(ChatMessage.id)
            )
        ]
        rows = list(
            session.scalars(
                select(InboundMessage)
                .where(InboundMessage.conversation_id == cid)
                .order_by(InboundMessage.id)
            )
        )
    return lines, rows


def test_a_spooled_message_is_kept_once_and_outlives_the_process(tmp_path: Path) -> None:
    path = spool_path(tmp_path, "postgresql://x@127.0.0.1/one")
    assert path != spool_path(tmp_path, "postgresql://x@127.0.0.1/two")  # one per database
    spool = Spool(path)
    assert not spool.holds()
    first = Incoming("web:spool-aaa111", "web", "你好", "你好", dedupe_key="web:spool-aaa111:m1")
    spool.put(first)
    spool.put(first)  # the page sent it again: the same message
    spool.put(Incoming("web:spool-aaa111", "web", "在吗", "在吗", dedupe_key="k2"))
    spool.put(Incoming("web:spool-bbb222", "web", "喂", "喂", dedupe_key="k3"))

    again = Spool(path)  # the app restarted
    assert again.holds()
    assert again.conversations() == ["web:spool-aaa111", "web:spool-bbb222"]
    entries = again.entries("web:spool-aaa111")
    assert entries[0][1] == first
    assert [incoming.text for _, incoming in entries] == ["你好", "在吗"]
    for entry_id, _ in entries:
        again.remove(entry_id)
    assert again.conversations() == ["web:spool-bbb222"]


@pytest.fixture
async def core(
    postgres_url: str, proxy: TcpProxy, tmp_path: Path, bot: InstantBot
) -> AsyncIterator[Conversations]:
    migrate(postgres_url)
    url = postgres_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    assert url != postgres_url
    core = spooling(url, bot, Spool(spool_path(tmp_path, url)))
    core.database_url = url  # type: ignore[attr-defined]
    yield core
    await core.aclose()


@pytest.fixture
def bot() -> InstantBot:
    return InstantBot()


async def test_messages_kept_while_the_database_is_away_are_answered_in_order(
    core: Conversations, proxy: TcpProxy, bot: InstantBot
) -> None:
    cid = "web:spool-order1"
    assert (await core.handle(web(cid, "第一句"), deadline_s=3.0)).state == "replied"
    proxy.down()
    answers = []
    for text in ("第二句", "第三句"):
        started = time.monotonic()
        outcome = await core.handle(web(cid, text), deadline_s=3.0)
        answers.append((outcome, time.monotonic() - started))
    for outcome, seconds in answers:  # within the deadline, told it is kept
        assert seconds < 3.0
        assert outcome.state == "unavailable"
        assert [m["text"] for m in outcome.messages] == [BOT_UNAVAILABLE]
    with pytest.raises(DBAPIError):  # still away: the worker tries again next round
        await core.replay_spool()
    proxy.up()

    # the next message comes after the kept ones, in the order they were written
    outcome = await core.handle(web(cid, "第四句"), deadline_s=3.0)
    assert outcome.state == "replied"
    assert [m["text"] for m in outcome.messages] == ["收到：第四句"]
    await asyncio.sleep(0.5)  # the replayed turns ran before it; nothing more comes
    await core.replay_spool()
    assert [t for c, t in bot.turns if c == cid] == ["第一句", "第二句", "第三句", "第四句"]

    lines, rows = stored(core.database_url, cid)  # type: ignore[attr-defined]
    # the kept ones reach the page by its stream (pushed), the others in their answer
    assert [(r.status, r.delivery) for r in rows] == [
        ("done", "passive"),
        ("done", "queued"),
        ("done", "queued"),
        ("done", "passive"),
    ]
    # the kept ones are taken in when the next message comes, and their answers may follow it;
    # what holds: each said once, in the order written, each answer after its message
    said = ["第一句", "第二句", "第三句", "第四句"]
    assert [t for who, t in lines if who == "user"] == said
    assert [t for who, t in lines if who == "bot"] == [f"收到：{t}" for t in said]
    for text in said:
        assert lines.index(("user", text)) < lines.index(("bot", f"收到：{text}"))
    assert lines[:2] == [("user", "第一句"), ("bot", "收到：第一句")]
    assert lines[-1] == ("bot", "收到：第四句")
