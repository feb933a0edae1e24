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

Configured in the endpoints as ``type: bot.server.tracker_store.CachedSQLTrackerStore`` with the
same keys as Rasa's ``SQL`` store.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker

CAPACITY = 2000


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
        await super().save(tracker)
        self._saved[tracker.sender_id] = _Saved(
            tracker, self._last_event_id(tracker.sender_id), len(tracker.events)
        )
        while len(self._saved) > self._capacity:
            self._saved.popitem(last=False)
