"""Rasa's SQL tracker store without replaying the whole conversation on every turn.

Rasa's ``SQLTrackerStore`` reloads every event of the current session and replays it into a new
tracker each time a message arrives, then counts the stored events again to save the new ones:
the cost of a turn grows with the conversation. This store keeps the tracker it last saved per
conversation and hands it out again when one indexed query shows that nothing newer was stored
(``max(id)`` of the conversation's events): the tracker still lives in SQL, survives a restart and
is shared by several Rasa servers, since any event written elsewhere makes the check fail and the
tracker is loaded the stock way.

A cached tracker is handed out once (the caller owns it until it saves it again), so a turn that
fails half-way never leaves changes nobody saved in the cache; its length is checked too. The
cache is bounded (least recently saved conversations go first). On SQLite the tracker database
runs in WAL mode with ``synchronous=NORMAL`` (commits stop waiting for a disk flush each time;
a power cut can lose the last turns, never corrupt the file).

A database that is away for a moment (PostgreSQL restarting: pooled connections cut, new ones
refused) is waited for: connections are checked before use (``pool_pre_ping``) and a retrieve or
save that fails on a lost connection runs again, with backoff, for up to ``AWAY_S`` (a save
again stores only the events the database does not hold yet, so nothing is stored twice). Past
that the error is raised and fails the turn (bot/server/patches.py keeps Rasa from carrying on
with an empty tracker); the app keeps the message and sends it again later.

Configured in the endpoints as ``type: bot.server.tracker_store.CachedSQLTrackerStore`` with the
same keys as Rasa's ``SQL`` store.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

log = logging.getLogger(__name__)
T = TypeVar("T")
CAPACITY = 2000
AWAY_S = 10.0


def database_away(exc: BaseException) -> bool:
    """A lost or refused connection, not a statement that failed on its own."""
    if not isinstance(exc, DBAPIError):
        return False
    return exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError)


async def while_away(
    work: Callable[[], Awaitable[T]], *, away_s: float | None = None, pause_s: float = 0.2
) -> T:
    """``work()`` again while the database is away, with backoff, for up to ``away_s``."""
    give_up = time.monotonic() + (AWAY_S if away_s is None else away_s)
    while True:
        try:
            return await work()
        except DBAPIError as exc:
            if not database_away(exc) or time.monotonic() + pause_s > give_up:
                raise
            log.warning("tracker database away, trying again in %.1fs", pause_s)
        await asyncio.sleep(pause_s)
        pause_s = min(2 * pause_s, 2.0)


@dataclass
class _Saved:
    tracker: DialogueStateTracker
    last_event_id: int
    length: int


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class CachedSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, capacity: int = CAPACITY, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
            self.engine.dispose()  # connections opened while creating tables get the pragmas too
        else:  # the same engine, its connections checked before use (cut by a restart)
            url = self.engine.url
            self.engine.dispose()
            self.engine = sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
            self.sessionmaker = sa.orm.sessionmaker(bind=self.engine)
        self._saved: OrderedDict[str, _Saved] = OrderedDict()
        self._capacity = capacity
        self.hits = 0
        self.misses = 0

    def _last_event_id(self, sender_id: str) -> int:
        with self.session_scope() as session:
            query = sa.select(sa.func.max(self.SQLEvent.id)).where(
                self.SQLEvent.sender_id == sender_id
            )
            return int(session.execute(query).scalar() or 0)

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        return await while_away(lambda: self._retrieve_cached(sender_id))

    async def retrieve_full_tracker(self, sender_id: str) -> DialogueStateTracker | None:
        full = super().retrieve_full_tracker
        return await while_away(lambda: full(sender_id))

    async def _retrieve_cached(self, sender_id: str) -> DialogueStateTracker | None:
        saved = self._saved.pop(sender_id, None)
        if (
            saved is not None
            and len(saved.tracker.events) == saved.length
            and self._last_event_id(sender_id) == saved.last_event_id
        ):
            self.hits += 1
            return saved.tracker
        self.misses += 1
        return await super().retrieve(sender_id)

    async def save(self, tracker: DialogueStateTracker) -> None:
        self._saved.pop(tracker.sender_id, None)
        last_event_id = await while_away(lambda: self._save_counted(tracker))
        self._saved[tracker.sender_id] = _Saved(tracker, last_event_id, len(tracker.events))
        while len(self._saved) > self._capacity:
            self._saved.popitem(last=False)

    async def _save_counted(self, tracker: DialogueStateTracker) -> int:
        await super().save(tracker)  # only the events the database does not hold yet
        return self._last_event_id(tracker.sender_id)
