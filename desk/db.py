"""Database engine and sessions (SQLAlchemy 2); app/ keeps the table registry and migrations."""

import logging
import time
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

log = logging.getLogger(__name__)
T = TypeVar("T")
AWAY_S = 10.0  # how long a transaction waits for a database that is away (a restart)


class Base(DeclarativeBase):
    pass


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


@lru_cache
def get_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True)


@lru_cache
def get_sessionmaker(url: str) -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(url), expire_on_commit=False)


def session_scope(url: str) -> Iterator[Session]:
    with get_sessionmaker(url)() as session:
        yield session


def database_away(exc: BaseException) -> bool:
    """The server is away (restarting: the connection was cut, new ones are refused), as
    opposed to a statement that failed on its own."""
    if not isinstance(exc, DBAPIError):
        return False
    return exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError)


def run_transaction(
    sessions: sessionmaker[Session],
    step: Callable[..., T],
    *args: Any,
    away_s: float = AWAY_S,
    sleep: Callable[[float], None] = time.sleep,
    **kwargs: Any,
) -> T:
    """``step(session, *args, **kwargs)`` in one transaction, committed (blocking).

    While the database is away the whole step runs again in a new transaction, with backoff,
    for up to ``away_s``: nothing of it was committed, its writes are flushed before the commit.
    The COMMIT itself is never sent twice (it may have gone through): its failure is raised.
    """
    give_up = time.monotonic() + away_s
    pause = 0.2
    while True:
        with sessions() as session:
            try:
                result = step(session, *args, **kwargs)
                session.flush()
            except DBAPIError as exc:
                if not database_away(exc) or time.monotonic() + pause > give_up:
                    raise
                log.warning("database away, trying again in %.1fs error=%s", pause, type(exc))
            else:
                session.commit()
                return result
        sleep(pause)
        pause = min(2 * pause, 2.0)
