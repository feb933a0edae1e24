"""A test's PostgreSQL database: created and migrated from nothing, or copied from a migrated
template (tests/conftest.py), measured side by side in one run.

    .venv/bin/python bench/pg_database_bench.py [rounds]
"""

import os
import secrets
import statistics
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.database import migrate
from desk.db import get_engine

ADMIN = os.environ.get("QCLINIC_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
BASE = ADMIN.rsplit("/", 1)[0]


def execute(statement: str) -> None:
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(statement)


def one(template: str | None) -> float:
    name = f"qclinic_b_{secrets.token_hex(4)}"
    started = time.perf_counter()
    execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    migrate(f"{BASE}/{name}")  # on a copy: only the check that it is at the newest revision
    elapsed = time.perf_counter() - started
    get_engine(f"{BASE}/{name}").dispose()
    execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return elapsed


def main(rounds: int) -> None:
    template = f"qclinic_tpl_{secrets.token_hex(4)}"
    execute(f'CREATE DATABASE "{template}"')
    migrate(f"{BASE}/{template}")
    get_engine(f"{BASE}/{template}").dispose()
    fresh, copied = [], []
    try:
        for _ in range(rounds):  # interleaved, so both see the same machine
            fresh.append(one(None))
            copied.append(one(template))
    finally:
        execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
    print(f"| database per test ({rounds} rounds) | median ms | min ms | max ms |")
    print("|---|---|---|---|")
    for label, times in (("create + migrate", fresh), ("copy of a migrated template", copied)):
        ms = [t * 1000 for t in times]
        print(f"| {label} | {statistics.median(ms):.0f} | {min(ms):.0f} | {max(ms):.0f} |")
    print(f"ratio of medians: {statistics.median(fresh) / statistics.median(copied):.1f}×")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 15)
