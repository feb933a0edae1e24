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
cache is bounded (least recently saved conversations go first). A tracker that holds more than
one session (it went on past an expired session in memory) is not cached: the next turn loads
only its current session, as Rasa's store does.

Saving a tracker this store handed out or saved itself needs no count: it knows how many of the
tracker's events are stored and the conversation's last event id then. One query checks that id
in the transaction that inserts the new events (the inserted rows give the new last id). When
the id moved (another server wrote), or the tracker is one Rasa's own retrieve built, the stock
save counts what the database holds. On SQLite the engine keeps its connections (SQLAlchemy 1.4
opens a new one for every session of a file database) and runs in WAL mode with
``synchronous=NORMAL`` (commits stop waiting for a disk flush each time; a power cut can lose the
last turns, never corrupt the file).

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
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.events import Event, SessionStarted
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
            url = self.engine.url
            self.engine.dispose()
            self.engine = sa.create_engine(
                url, poolclass=sa.pool.QueuePool, connect_args={"check_same_thread": False}
            )
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
            self.sessionmaker = sa.orm.sessionmaker(bind=self.engine)
        else:  # the same engine, its connections checked before use (cut by a restart)
            url = self.engine.url
            self.engine.dispose()
            self.engine = sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
            self.sessionmaker = sa.orm.sessionmaker(bind=self.engine)
        self._saved: OrderedDict[str, _Saved] = OrderedDict()
        self._handed_out: dict[str, _Saved] = {}  # what the holder of a cached tracker saved
        self._capacity = capacity
        self.hits = 0
        self.misses = 0
        self.counted_saves = 0  # saves that counted the stored rows the stock way

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
            self._handed_out[sender_id] = saved
            return saved.tracker
        self.misses += 1
        self._handed_out.pop(sender_id, None)
        return await super().retrieve(sender_id)

    async def save(self, tracker: DialogueStateTracker) -> None:
        sender_id = tracker.sender_id
        known = self._handed_out.pop(sender_id, None) or self._saved.get(sender_id)
        self._saved.pop(sender_id, None)
        last_event_id = None
        if known is not None and known.tracker is tracker and len(tracker.events) >= known.length:
            await self.stream_events(tracker)
            try:
                last_event_id = self._save_new(tracker, known)
            except DBAPIError as exc:
                if not database_away(exc):
                    raise
        if last_event_id is None:  # unknown or moved: count what the database holds
            last_event_id = await while_away(lambda: self._save_counted(tracker))
        if sum(isinstance(e, SessionStarted) for e in tracker.events) <= 1:
            self._saved[sender_id] = _Saved(tracker, last_event_id, len(tracker.events))
        while len(self._saved) > self._capacity:
            self._saved.popitem(last=False)

    def _save_new(self, tracker: DialogueStateTracker, known: _Saved) -> int | None:
        """The events after the ``known.length`` stored ones, when the conversation's last id is
        still ``known.last_event_id``; returns the new last id, or None (nothing written)."""
        events = self.SQLEvent.__table__
        last_id = sa.select(sa.func.max(events.c.id)).where(events.c.sender_id == tracker.sender_id)
        with self.session_scope() as session:
            if int(session.execute(last_id).scalar() or 0) != known.last_event_id:
                return None
            new = list(tracker.events)[known.length :]
            if not new:
                return known.last_event_id
            rows = [self._row(tracker.sender_id, event) for event in new]
            session.execute(events.insert(), rows)  # one statement for all of them
            last = int(session.execute(last_id).scalar() or 0)
            session.commit()
            return last

    @staticmethod
    def _row(sender_id: str, event: Event) -> dict[str, Any]:
        """One stored event, as Rasa's own save writes it."""
        data = event.as_dict()
        return {
            "sender_id": sender_id,
            "type_name": event.type_name,
            "timestamp": data.get("timestamp"),
            "intent_name": data.get("parse_data", {}).get("intent", {}).get("name"),
            "action_name": data.get("name"),
            "data": json.dumps(data),
        }

    async def _save_counted(self, tracker: DialogueStateTracker) -> int:
        self.counted_saves += 1
        await super().save(tracker)  # only the events the database does not hold yet
        return self._last_event_id(tracker.sender_id)
