"""Kept messages of one conversation taken in in the order they came, whichever replica kept them.

Two replicas (two :class:`Conversations`, each with its own spool folder, as on two machines)
share the real PostgreSQL, reached through a :class:`TcpProxy` that takes it away as a restart
does, and the real Redis, which keeps the order (channels/spool_order.py). The bot is the core
tests' instant double.
"""

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
import redis

from channels.contracts import Incoming
from channels.conversations import Conversations
from channels.spool import Spool, spool_path
from channels.spool_order import SpoolOrder
from tests.channels.test_conversations import InstantBot, web
from tests.channels.test_spool import spooling, stored
from tests.tcp_proxy import TcpProxy

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def url(postgres_url: str, proxy: TcpProxy) -> Iterator[str]:
    url = postgres_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    yield url
    queues = redis.Redis.from_url(REDIS_URL)
    prefix = SpoolOrder(REDIS_URL, owner="-", database_url=url)._prefix
    for key in queues.scan_iter(f"{prefix}*"):
        queues.delete(key)


@pytest.fixture
async def replicas(
    url: str, tmp_path: Path, bot: InstantBot
) -> AsyncIterator[Callable[..., Conversations]]:
    made: list[Conversations] = []

    def replica(name: str, orders: dict[str, SpoolOrder] | None = None) -> Conversations:
        """Replica ``name``; its order in Redis goes into ``orders`` when the test asks."""
        spool = Spool(spool_path(tmp_path / name, url))
        owner = f"host-{name}:{spool.path}"
        order = SpoolOrder(REDIS_URL, owner=owner, database_url=url)
        if orders is not None:
            orders[name] = order
        core = spooling(url, bot, spool, order)
        made.append(core)
        return core

    yield replica
    for core in made:
        await core.aclose()


@pytest.fixture
def bot() -> InstantBot:
    return InstantBot()


def said(bot: InstantBot, cid: str) -> list[str]:
    return [text for c, text in bot.turns if c == cid]


async def wait_for(check: Callable[[], bool], timeout_s: float = 5.0) -> None:
    give_up = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < give_up, "timed out"
        await asyncio.sleep(0.05)


def transcript(url: str, cid: str) -> tuple[list[tuple[str, str]], list[str]]:
    """The transcript, and the texts taken in (inbound rows), in order."""
    lines, rows = stored(url, cid)
    return lines, [r.bot_text or "" for r in rows]


async def test_a_message_to_another_replica_waits_behind_the_one_kept_by_the_first(
    replicas: Callable[..., Conversations], proxy: TcpProxy, bot: InstantBot, url: str
) -> None:
    a, b = replicas("a"), replicas("b")
    cid = "web:replicas-order1"
    assert (await a.handle(web(cid, "第一句"), deadline_s=3.0)).state == "replied"
    proxy.down()
    kept = await a.handle(web(cid, "第二句"), deadline_s=2.0)  # A keeps it on its disk
    assert kept.state == "unavailable" and kept.messages[0]["pending"]
    proxy.up()

    await b.replay_spool()  # B's worker went round meanwhile (every few seconds): it knows
    # the database is back, the next message reaches B first: it waits behind A's
    behind = await b.handle(web(cid, "第三句"), deadline_s=3.0)
    assert behind.state == "unavailable" and behind.messages[0]["pending"]
    await b.replay_spool()  # B's worker: still A's turn
    assert said(bot, cid) == ["第一句"]

    await a.replay_spool()  # A's worker takes its kept message in
    await wait_for(lambda: said(bot, cid) == ["第一句", "第二句"])
    await b.replay_spool()  # then B's
    await wait_for(lambda: said(bot, cid) == ["第一句", "第二句", "第三句"])

    # nothing is kept any more: the next message is answered in its own request, on either
    after = await a.handle(web(cid, "第四句"), deadline_s=3.0)
    assert after.state == "replied"
    assert [m["text"] for m in after.messages] == ["收到：第四句"]

    texts = ["第一句", "第二句", "第三句", "第四句"]
    lines, inbound = transcript(url, cid)
    assert inbound == texts  # each message taken in once, in the order it came
    assert [t for who, t in lines if who == "user"] == texts
    assert [t for who, t in lines if who == "bot"] == [f"收到：{t}" for t in texts]
    assert said(bot, cid) == texts  # each turn once


async def test_other_conversations_are_not_held_up(
    replicas: Callable[..., Conversations], proxy: TcpProxy, bot: InstantBot
) -> None:
    a, b = replicas("a"), replicas("b")
    proxy.down()
    await a.handle(web("web:replicas-held", "在吗"), deadline_s=2.0)
    proxy.up()
    await b.replay_spool()
    other = await b.handle(web("web:replicas-free", "你好"), deadline_s=3.0)
    assert other.state == "replied"  # only the conversation with a kept message waits


async def test_a_replica_gone_for_good_holds_the_conversation_only_for_a_while(
    replicas: Callable[..., Conversations],
    proxy: TcpProxy,
    bot: InstantBot,
    url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    orders: dict[str, SpoolOrder] = {}
    a, b = replicas("a"), replicas("b", orders)
    cid = "web:replicas-gone"
    proxy.down()
    await a.handle(web(cid, "第一句"), deadline_s=2.0)  # kept by A, which never comes back
    proxy.up()
    await b.replay_spool()
    assert (await b.handle(web(cid, "第二句"), deadline_s=3.0)).state == "unavailable"
    orders["b"].stale_s = 1.0  # as if 10 minutes went by: A's head is stale after a second
    await asyncio.sleep(1.2)
    with caplog.at_level(logging.WARNING, logger="channels.spool_order"):
        await b.replay_spool()  # A made no progress for longer than stale_s
    await wait_for(lambda: said(bot, cid) == ["第二句"])
    assert "its replica made no progress" in caplog.text
    assert (await b.handle(web(cid, "第三句"), deadline_s=3.0)).state == "replied"
    assert transcript(url, cid)[1] == ["第二句", "第三句"]


async def test_without_redis_each_replica_goes_on_with_its_own_spool(
    url: str, tmp_path: Path, proxy: TcpProxy, bot: InstantBot, caplog: pytest.LogCaptureFixture
) -> None:
    away = SpoolOrder("redis://127.0.0.1:1/0", owner="host-x", database_url=url)
    core = spooling(url, bot, Spool(spool_path(tmp_path, url)), away)
    cid = "web:replicas-noredis"
    try:
        proxy.down()
        with caplog.at_level(logging.WARNING, logger="channels.spool_order"):
            assert (await core.handle(web(cid, "第一句"), deadline_s=2.0)).state == "unavailable"
        proxy.up()
        second = await core.handle(web(cid, "第二句"), deadline_s=3.0)
        assert second.state == "replied"  # its own kept message first, then this one
        await wait_for(lambda: said(bot, cid) == ["第一句", "第二句"])
        assert "Redis away" in caplog.text
    finally:
        await core.aclose()


def test_a_spooled_message_is_queued_once(url: str, tmp_path: Path) -> None:
    spool = Spool(spool_path(tmp_path, url))
    message = Incoming("web:replicas-once", "web", "你好", "你好", dedupe_key="k1")
    assert spool.put(message) is True
    assert spool.put(message) is False  # the same message again: not a second entry


async def test_while_nothing_is_spooled_a_message_asks_redis_nothing(
    url: str, caplog: pytest.LogCaptureFixture
) -> None:
    order = SpoolOrder("redis://127.0.0.1:1/0", owner="host-x", database_url=url)
    try:
        with caplog.at_level(logging.WARNING, logger="channels.spool_order"):
            assert await order.first("web:replicas-none", set()) is None
        assert caplog.text == ""  # not even tried: the worker's last look found nothing kept
    finally:
        await order.aclose()
