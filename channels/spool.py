"""The inbound spool: a user's message the database could not take in time, kept on local disk.

When the database is away for longer than a channel can wait for it (a PostgreSQL restart that
outlasts the web page's or WeChat's deadline), the message is written here instead, the user is
told it is kept, and it is accepted — transcript row, ``chat_inbound`` row, its bot turn — as soon
as the database answers again (:meth:`channels.conversations.Conversations.replay_spool`), before
any newer message of the same conversation.

One SQLite file per database (named by a digest of its URL, under ``var/spool/``), so an entry is
only ever replayed into the database it was meant for, also after a restart of the app. Every
message carries a dedupe key before it is spooled: a replay of a message whose first accept did
commit after all (its COMMIT's answer was lost with the connection) is a duplicate, not a second
message. SQLite's own locking makes the file safe for several processes sharing a var/ folder.
Replicas on several machines keep each other's order through Redis (channels/spool_order.py).
"""

import contextlib
import dataclasses
import hashlib
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from channels.contracts import Incoming
from channels.gateway import BotMessage

SCHEMA = """
CREATE TABLE IF NOT EXISTS spooled (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL,
    dedupe_key TEXT UNIQUE,
    incoming TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS spooled_conversation ON spooled (conversation_id, id);
"""


def spool_path(var_dir: Path, database_url: str) -> Path:
    digest = hashlib.sha256(database_url.encode()).hexdigest()[:16]
    return var_dir / "spool" / f"inbound-{digest}.sqlite3"


def _dump(incoming: Incoming) -> str:
    return json.dumps(dataclasses.asdict(incoming), ensure_ascii=False)


def _load(text: str) -> Incoming:
    data: dict[str, Any] = json.loads(text)
    replies = tuple(BotMessage(**m) for m in data.pop("local_replies", ()))
    return Incoming(**data, local_replies=replies)


class Spool:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.executescript(SCHEMA)
        self._held = bool(self.conversations())  # what a previous run left: replayed first

    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        with contextlib.closing(sqlite3.connect(self.path, timeout=10)) as db, db:
            yield db

    def put(self, incoming: Incoming) -> bool:
        """Keep the message (a second copy of the same dedupe key is the same message: False)."""
        assert incoming.dedupe_key is not None, "a spooled message needs its dedupe key"
        with self._db() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO spooled (conversation_id, dedupe_key, incoming) "
                "VALUES (?, ?, ?)",
                (incoming.conversation_id, incoming.dedupe_key, _dump(incoming)),
            )
        self._held = True
        return cursor.rowcount > 0

    def holds(self) -> bool:
        """Cheap: whether anything may be kept (set by :meth:`put`, cleared by an empty look)."""
        return self._held

    def conversations(self) -> list[str]:
        """The conversations with kept messages, the one waiting longest first."""
        with self._db() as db:
            rows = db.execute(
                "SELECT conversation_id FROM spooled GROUP BY conversation_id ORDER BY MIN(id)"
            ).fetchall()
        self._held = bool(rows)
        return [row[0] for row in rows]

    def entries(self, conversation_id: str) -> list[tuple[int, Incoming]]:
        """A conversation's kept messages in the order they came."""
        with self._db() as db:
            rows = db.execute(
                "SELECT id, incoming FROM spooled WHERE conversation_id = ? ORDER BY id",
                (conversation_id,),
            ).fetchall()
        return [(row[0], _load(row[1])) for row in rows]

    def remove(self, entry_id: int) -> None:
        with self._db() as db:
            db.execute("DELETE FROM spooled WHERE id = ?", (entry_id,))
