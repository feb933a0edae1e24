"""Wake the streams (SSE) of a topic — a conversation, or the console — when its data grows.

Streams re-read the database, so a wake-up carries no data and a lost one costs at most one poll
interval. With Redis configured the wake-ups also cross processes. A subscription to ``ANY``
wakes on every topic (the console watches every consultation's transcript).
"""

import asyncio
import contextlib
import logging
from collections import defaultdict
from typing import Any

log = logging.getLogger(__name__)

CHANNEL = "qclinic:chat"
ANY = "*"
RECONNECT_S = 1.0  # between tries while Redis is away


class Notifier:
    def __init__(self, redis_url: str | None = None) -> None:
        self._redis_url = redis_url
        self._waiters: defaultdict[str, set[asyncio.Event]] = defaultdict(set)
        self._redis: Any = None  # redis.asyncio.Redis, made in start()
        self._listener: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        if not self._redis_url:
            return
        import redis.asyncio as aioredis

        self._redis = aioredis.from_url(self._redis_url, socket_timeout=5)
        self._listener = asyncio.create_task(self._listen(), name="chat-notify")

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        if self._redis is not None:
            await self._redis.aclose()

    async def _listen(self) -> None:
        """Subscribed for as long as the app runs: while Redis is away the streams poll, and
        once it is back (subscribed again) every stream is woken to re-read what it missed —
        other processes' wake-ups of the outage are lost, their data is not."""
        assert self._redis is not None
        away = False
        while True:
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    if away:
                        away = False
                        log.warning("chat notify listener subscribed again")
                        self._wake_all()
                    async for item in pubsub.listen():
                        if item.get("type") == "message":
                            self._wake(item["data"].decode())
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis away: streams fall back to polling meanwhile
                if not away:
                    log.warning("chat notify listener lost Redis error=%r", exc)
                away = True
                await asyncio.sleep(RECONNECT_S)

    def _wake_all(self) -> None:
        for events in list(self._waiters.values()):
            for event in events:
                event.set()

    def _wake(self, conversation_id: str) -> None:
        for event in self._waiters.get(conversation_id, ()):
            event.set()
        for event in self._waiters.get(ANY, ()):
            event.set()

    def publish_threadsafe(self, topic: str) -> None:
        """Publish from a worker thread (a sync service after its commit); no-op before start."""
        if self._loop is not None and not self._loop.is_closed():
            asyncio.run_coroutine_threadsafe(self.publish(topic), self._loop)

    async def publish(self, conversation_id: str) -> None:
        self._wake(conversation_id)
        if self._redis is not None:
            try:
                await self._redis.publish(CHANNEL, conversation_id)
            except Exception as exc:
                log.warning("chat notify publish error=%r", exc)

    @contextlib.contextmanager
    def subscription(self, conversation_id: str):  # type: ignore[no-untyped-def]
        event = asyncio.Event()
        self._waiters[conversation_id].add(event)
        try:
            yield event
        finally:
            waiters = self._waiters.get(conversation_id)
            if waiters is not None:
                waiters.discard(event)
                if not waiters:
                    del self._waiters[conversation_id]
