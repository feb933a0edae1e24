"""The streams' fan-out through real Redis, reached through a proxy that can take it away: a
stream (a web page, the expert console) subscribed before an outage is woken by other
processes' news after it, and is woken once on the way back to re-read what it missed."""

import asyncio
import secrets
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from desk.live.notifier import CHANNEL, RECONNECT_S, Notifier
from tests.tcp_proxy import TcpProxy

DB = 9 + secrets.randbelow(7)  # the tests of others use db 0


@pytest.fixture
async def through_proxy() -> AsyncIterator[tuple[Notifier, TcpProxy]]:
    proxy = TcpProxy(6379)
    notifier = Notifier(f"redis://127.0.0.1:{proxy.port}/{DB}")
    await notifier.start()
    try:
        yield notifier, proxy
    finally:
        await notifier.stop()
        proxy.close()


@pytest.fixture
async def other_process() -> AsyncIterator[aioredis.Redis]:
    """Another replica's publisher, straight to Redis (not through this notifier's wake-up)."""
    client = aioredis.from_url(f"redis://127.0.0.1:6379/{DB}")
    try:
        yield client
    finally:
        await client.aclose()


async def woken_by(
    publisher: aioredis.Redis, topic: str, event: asyncio.Event, *, within: float
) -> bool:
    """Publish the topic every 0.2 s until the event is set (True) or ``within`` passed."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + within
    while loop.time() < give_up:
        await publisher.publish(CHANNEL, topic)
        try:
            await asyncio.wait_for(event.wait(), 0.2)
            return True
        except TimeoutError:
            pass
    return False


async def test_a_stream_subscribed_before_an_outage_is_woken_after_it(
    through_proxy: tuple[Notifier, TcpProxy], other_process: aioredis.Redis
) -> None:
    notifier, proxy = through_proxy
    topic = f"web:notify-{secrets.token_hex(6)}"
    with notifier.subscription(topic) as wake:
        assert await woken_by(other_process, topic, wake, within=5)  # subscribed
        await asyncio.sleep(6)  # quiet for longer than the client's socket timeout (5 s)
        wake.clear()
        assert await woken_by(other_process, topic, wake, within=0.5)  # still subscribed

        proxy.down()  # Redis restarting: the connection is cut, new ones refused
        await asyncio.sleep(3 * RECONNECT_S)
        wake.clear()
        await other_process.publish(CHANNEL, topic)  # lost: nobody listens through the proxy
        await asyncio.sleep(0.5)
        assert not wake.is_set()
        proxy.up()

        # on the way back every stream is woken once, to re-read what it missed
        await asyncio.wait_for(wake.wait(), 3 * RECONNECT_S + 2)
        wake.clear()
        assert await woken_by(other_process, topic, wake, within=1)  # and subscribed again


async def test_a_stream_of_another_topic_is_not_woken_by_news(
    through_proxy: tuple[Notifier, TcpProxy], other_process: aioredis.Redis
) -> None:
    notifier, _ = through_proxy
    topic, other = (f"web:notify-{secrets.token_hex(6)}" for _ in range(2))
    with notifier.subscription(topic) as wake, notifier.subscription(other) as elsewhere:
        assert await woken_by(other_process, topic, wake, within=5)
        assert not elsewhere.is_set()
