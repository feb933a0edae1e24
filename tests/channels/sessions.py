"""Count the database sessions (and their transactions) that code under test opens."""

import contextlib
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session


@dataclass
class SessionCount:
    transactions: int = 0
    _seen: "weakref.WeakSet[Session]" = field(default_factory=weakref.WeakSet)
    _sessions: int = 0

    @property
    def sessions(self) -> int:
        """Sessions that talked to the database (a session that never ran SQL is not counted)."""
        return self._sessions

    def _began(self, session: Session, _transaction: Any, _connection: Any) -> None:
        self.transactions += 1
        if session not in self._seen:
            self._seen.add(session)
            self._sessions += 1


@contextlib.contextmanager
def counting_sessions() -> Iterator[SessionCount]:
    """Every ``Session`` of the process while the block runs, in any thread."""
    count = SessionCount()
    event.listen(Session, "after_begin", count._began)
    try:
        yield count
    finally:
        event.remove(Session, "after_begin", count._began)
