"""The order of spooled messages across replicas, kept in Redis.

Each replica spools the messages the database could not take in time on its own disk
(channels/spool.py), so that nothing is lost when Redis goes too. With several replicas behind
nginx, one conversation's consecutive messages can reach different replicas: a message kept by
replica A during a PostgreSQL restart, and the next one, sent to replica B once the database is
back, would be taken in B-first. So each spooled message is also queued here, per
conversation, under the replica that keeps it (``owner``: the host and its spool file, stable
across restarts). A replica takes in a conversation's message only when no other replica's
kept message of it comes first; otherwise it spools that message too, behind them, and the
worker of each replica accepts its own entries when their turn comes (channels/conversations.py).

A count of the queued entries (``qclinic:spool-entries:<digest>``) is read by each replica's
spool worker at every round, so that while no replica keeps anything (nearly always) a message
costs no Redis round trip; a replica learns of another's kept message within one round, long
before the database is back (a message is spooled only after the channel's deadline).

An entry whose owner made no progress for ``stale_s`` (its replica is gone for good, with its
disk) is dropped with a warning, so a conversation is never held up for ever; one whose owner
is this replica but that its spool no longer holds is dropped too. While Redis cannot be
reached the order is not known: each replica then goes on as a single one does (its own
spool first), and says so in the log.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)
STALE_S = 600.0
KEEP_S = 7 * 24 * 3600  # a conversation's queue is forgotten this long after its last entry
# Pops the head of a conversation's queue only if it is the given entry (ARGV[1]: its owner and
# key; two replicas may finish the same entry: one accepted it, the other found it taken in
# already); the next entry's owner is then the one expected to make progress, so its time
# starts again (ARGV[2]). KEYS[2] counts the entries of all conversations.
_POP_IF_HEAD = r"""
local head = redis.call('LINDEX', KEYS[1], 0)
if not head or string.sub(head, 1, #ARGV[1]) ~= ARGV[1] then
  return 0
end
redis.call('LPOP', KEYS[1])
if redis.call('DECR', KEYS[2]) < 0 then
  redis.call('SET', KEYS[2], 0)
end
head = redis.call('LINDEX', KEYS[1], 0)
if head then
  local stem = string.match(head, '^(.*)\t[^\t]*$')
  redis.call('LSET', KEYS[1], 0, stem .. '\t' .. ARGV[2])
end
return 1
"""


@dataclass(frozen=True)
class Entry:
    owner: str
    dedupe_key: str
    at: float  # when it was queued, or its owner last made progress (seconds since the epoch)

    @property
    def name(self) -> str:
        return f"{self.owner}\t{self.dedupe_key}\t"

    @property
    def value(self) -> str:
        return f"{self.name}{self.at:.3f}"

    @classmethod
    def parse(cls, value: str) -> Entry:
        owner, key, at = value.rsplit("\t", 2)
        return cls(owner, key, float(at))


class SpoolOrder:
    def __init__(
        self, redis_url: str, *, owner: str, database_url: str, stale_s: float = STALE_S
    ) -> None:
        import redis.asyncio as aioredis

        self.owner = owner
        self._redis: Any = aioredis.from_url(
            redis_url, socket_timeout=0.5, socket_connect_timeout=0.5, decode_responses=True
        )
        # one queue per conversation and database (replicas of another deployment on the same
        # Redis keep their own)
        digest = hashlib.sha256(database_url.encode()).hexdigest()[:16]
        self._prefix = f"qclinic:spool:{digest}:"
        self._count = f"qclinic:spool-entries:{digest}"
        self.stale_s = stale_s  # how long another replica may hold a head without progress
        # whether any replica may hold kept messages: read by the spool worker's rounds
        # (refresh), so that a message costs no Redis round trip while nothing is spooled
        self._any = False
        self._pop = self._redis.register_script(_POP_IF_HEAD)

    def _key(self, conversation_id: str) -> str:
        return self._prefix + conversation_id

    async def queued(self, conversation_id: str, dedupe_key: str) -> None:
        """A message of the conversation was spooled by this replica."""
        key = self._key(conversation_id)
        try:
            self._any = True
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.rpush(key, Entry(self.owner, dedupe_key, time.time()).value)
                pipe.expire(key, KEEP_S)
                pipe.incr(self._count)
                pipe.expire(self._count, KEEP_S)
                await pipe.execute()
        except Exception as exc:  # Redis away: the order across replicas is not known
            log.warning("spool order not kept (Redis away) error=%s", type(exc).__name__)

    async def refresh(self) -> None:
        """Whether any replica holds kept messages (one round trip, by the spool worker)."""
        try:
            self._any = int(await self._redis.get(self._count) or 0) > 0
        except Exception as exc:
            log.warning("spool order unknown (Redis away) error=%s", type(exc).__name__)

    async def first(self, conversation_id: str, held: set[str]) -> Entry | None:
        """The kept message of the conversation that comes next, of any replica; None when
        there is none or Redis cannot be reached. ``held`` are the dedupe keys this replica's
        spool holds for the conversation: an entry of this replica not among them is gone."""
        if not self._any and not held:
            return None  # nothing spooled anywhere at the worker's last look
        key = self._key(conversation_id)
        try:
            while True:
                value = await self._redis.lindex(key, 0)
                if value is None:
                    return None
                entry = Entry.parse(value)
                mine = entry.owner == self.owner
                if mine and entry.dedupe_key not in held:
                    reason = "no longer spooled here"
                elif not mine and time.time() - entry.at > self.stale_s:
                    reason = f"its replica made no progress for {self.stale_s:.0f}s"
                else:
                    return entry
                log.warning("spool order: entry dropped (%s) owner=%s", reason, entry.owner)
                await self._pop(keys=[key, self._count], args=[entry.name, f"{time.time():.3f}"])
        except Exception as exc:
            log.warning("spool order unknown (Redis away) error=%s", type(exc).__name__)
            return None

    async def done(self, conversation_id: str, dedupe_key: str) -> None:
        """This replica's kept message was taken in (or found taken in already)."""
        name = Entry(self.owner, dedupe_key, 0.0).name
        try:
            keys = [self._key(conversation_id), self._count]
            await self._pop(keys=keys, args=[name, f"{time.time():.3f}"])
        except Exception as exc:
            log.warning("spool order not updated (Redis away) error=%s", type(exc).__name__)

    async def aclose(self) -> None:
        await self._redis.aclose()
