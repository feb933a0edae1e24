"""Replicas starting together migrate once: two processes migrate one new database at once."""

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from app.database import MIGRATIONS_DIR
from desk.paths import REPO_ROOT
from tests.e2e.conftest import postgres_database

# Both processes wait for the same moment, then migrate: without the lock both read an empty
# version table and create the same tables (one of them fails).
MIGRATE_AT = """
import sys, time
from app.database import migrate
at = float(sys.argv[2])
time.sleep(max(0.0, at - time.time()))
migrate(sys.argv[1])
"""


def heads() -> set[str]:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return set(ScriptDirectory.from_config(config).get_heads())


@pytest.fixture(params=["sqlite", "postgresql"])
def new_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'desk.db'}"
        return
    with postgres_database() as url:
        yield url


def test_two_processes_migrating_together_both_succeed_once(new_database: str) -> None:
    at = time.time() + 4.0  # after both have imported the app
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", MIGRATE_AT, new_database, str(at)],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120)[0] for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    url = new_database.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            versions = set(connection.execute(text("SELECT version_num FROM alembic_version")))
            demands = connection.execute(text("SELECT count(*) FROM demands")).scalar()
    finally:
        engine.dispose()
    assert {v for (v,) in versions} == heads()
    assert demands == 0  # the schema is there, and empty
