"""The schema of every area: table registry and migrations (Alembic).

Several app replicas starting together all migrate at start-up; they take turns under one lock,
so exactly one of them runs each migration and the others find the schema already at the head:

* PostgreSQL: a session-level advisory lock (``pg_advisory_lock``) held on its own connection
  while Alembic runs on another; it is released with that connection even if the process dies.
* SQLite: an exclusive ``flock`` on a file beside the database (``<file>.migrate.lock``). SQLite
  already lets one writer in at a time, but Alembic reads the version before it writes, so two
  processes could both start from the same version; the file lock closes that gap (replicas on
  SQLite share one machine anyway). In-memory databases need no lock.
"""

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from desk.db import get_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK = 0x51C1_0001  # advisory-lock key of the migrations (one bigint key space)


@contextmanager
def migration_lock(url: str) -> Iterator[None]:
    """Hold the database's migration lock (blocking until other migrating processes are done)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        with get_engine(url).connect() as connection:
            connection.execute(select(func.pg_advisory_lock(MIGRATION_LOCK)))
            connection.commit()  # the lock is the session's, not the transaction's
            try:
                yield
            finally:
                connection.execute(select(func.pg_advisory_unlock(MIGRATION_LOCK)))
                connection.commit()
        return
    database = parsed.database if parsed.get_backend_name() == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    lock_path = Path(database).with_name(Path(database).name + ".migrate.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def migrate(url: str) -> None:
    """Bring the schema at ``url`` to the newest migration (once, among processes starting
    together)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = get_engine(url)
    with migration_lock(url):
        command.upgrade(config, "heads")  # parallel branches are merged by a later revision
