"""Limits on incoming chat messages: per conversation (a person does not send dozens of messages
in a few seconds), per WeChat follower (the same, keyed by the conversation ``wx:<openid>``) and
per client address (``QCLINIC_RATE_LIMIT_PER_ADDRESS`` per minute; an enterprise park behind one
NAT address stays well below the default; 0 turns it off).

Counts are fixed one-minute windows. With Redis configured (``QCLINIC_REDIS_URL``) every replica
counts in the same keys; without it each process counts alone. Redis away: messages are let
through (a limit must never silence the assistant) and a warning is logged.
"""

import asyncio
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger(__name__)

WINDOW_S = 60
KEY_PREFIX = "qclinic:rate"
TOO_FAST = "您发送消息过于频繁，请稍候 {seconds} 秒再发送。"
WARN_EVERY_S = 30.0


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after_s: int = 0

    @property
    def message(self) -> str:
        return TOO_FAST.format(seconds=max(1, self.retry_after_s))


ALLOWED = Decision(allowed=True)


class Counter(Protocol):
    async def hit(self, key: str, *, window: int, now: float) -> int:
        """Count one more event under ``key`` in the window starting at ``window``; the total."""
        ...


class MemoryCounter:
    """One process's counts; old windows are dropped as time goes on."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, int], int] = {}
        self._lock = asyncio.Lock()

    async def hit(self, key: str, *, window: int, now: float) -> int:
        async with self._lock:
            if len(self._counts) > 10_000:  # forget finished windows
                self._counts = {k: v for k, v in self._counts.items() if k[1] >= window}
            total = self._counts.get((key, window), 0) + 1
            self._counts[(key, window)] = total
            return total


class RedisCounter:
    """Counts shared by every replica: INCR on ``qclinic:rate:<key>:<window>``, expiring."""

    def __init__(self, redis_url: str) -> None:
        import redis.asyncio as aioredis

        self._redis: Any = aioredis.from_url(
            redis_url, socket_timeout=0.5, socket_connect_timeout=0.5
        )

    async def hit(self, key: str, *, window: int, now: float) -> int:
        name = f"{KEY_PREFIX}:{key}:{window}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, WINDOW_S * 2)
            total, _ = await pipe.execute()
        return int(total)

    async def close(self) -> None:
        await self._redis.aclose()


class RateLimits:
    def __init__(
        self,
        *,
        per_conversation: int,
        per_address: int,
        counter: Counter | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.per_conversation = per_conversation
        self.per_address = per_address
        self._counter: Counter = counter or MemoryCounter()
        self._clock = clock
        self._warned_at = -math.inf

    async def message(self, *, conversation_id: str, address: str | None) -> Decision:
        """One incoming message: allowed, or refused with the seconds to wait."""
        checks = [(f"conversation:{conversation_id}", self.per_conversation)]
        if address:
            checks.append((f"address:{address}", self.per_address))
        for key, limit in checks:
            decision = await self._check(key, limit)
            if not decision.allowed:
                log.info("rate limited key=%s limit=%d/min", key.split(":", 1)[0], limit)
                return decision
        return ALLOWED

    async def _check(self, key: str, limit: int) -> Decision:
        if limit <= 0:
            return ALLOWED
        now = self._clock()
        window = int(now // WINDOW_S) * WINDOW_S
        try:
            total = await self._counter.hit(key, window=window, now=now)
        except Exception as exc:  # Redis away: let it through, say so now and then
            if now - self._warned_at >= WARN_EVERY_S:
                self._warned_at = now
                log.warning("rate limit counter unavailable, not limiting error=%r", exc)
            return ALLOWED
        if total <= limit:
            return ALLOWED
        return Decision(allowed=False, retry_after_s=math.ceil(window + WINDOW_S - now))

    async def close(self) -> None:
        if isinstance(self._counter, RedisCounter):
            await self._counter.close()


def build(*, redis_url: str | None, per_conversation: int, per_address: int) -> RateLimits:
    counter: Counter = RedisCounter(redis_url) if redis_url else MemoryCounter()
    return RateLimits(per_conversation=per_conversation, per_address=per_address, counter=counter)
