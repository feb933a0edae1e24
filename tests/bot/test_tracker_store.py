"""The cached SQL tracker store (bot/server/tracker_store.py), under Rasa's own interpreter, on
SQLite and PostgreSQL: Rasa's factory builds it from the endpoints the stack writes, a saved
tracker is handed out again without a reload, and every way the cache could go stale reloads."""

import json
import os
import secrets
import subprocess
from pathlib import Path

import pytest

from app.settings import AppSettings
from app.stack import rasa_endpoints

REPO = Path(__file__).resolve().parents[2]
RASA_PYTHON = REPO / ".venv-rasa" / "bin" / "python"

PROBE = r"""
import asyncio, json, sys
from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

config = json.loads(sys.argv[1])
slot = {"type": "text", "mappings": [{"type": "custom"}]}
domain = Domain.from_dict({"slots": {"product": slot}})

def store():
    return TrackerStore.create(EndpointConfig(**config), domain)

async def main():
    report = {}
    a, b = store(), store()  # two Rasa servers sharing one database
    report["class"] = type(a).__name__
    if a.engine.dialect.name == "sqlite":
        with a.engine.connect() as c:
            report["journal"] = c.exec_driver_sql("PRAGMA journal_mode").scalar()
    sender = "web:probe"
    tracker = DialogueStateTracker.from_events(sender, [UserUttered("电线电缆检测"),
        ActionExecuted("action_listen")], domain.slots)
    await a.save(tracker)
    first = await a.retrieve(sender)
    report["same_object"] = first is tracker
    second = await a.retrieve(sender)  # handed out once: the next caller reloads
    report["reloaded"] = second is not tracker and len(second.events) == len(tracker.events)
    second.update(SlotSet("product", "未保存"))  # a turn that fails before saving
    report["unsaved_dropped"] = (await a.retrieve(sender)).get_slot("product") is None
    third = await a.retrieve(sender)
    third.update(SlotSet("product", "电线电缆"))
    await a.save(third)
    other = await b.retrieve(sender)  # the other server takes the next turn
    other.update(UserUttered("江阴市周庄镇"))
    await b.save(other)
    seen = await a.retrieve(sender)
    report["sees_other_server"] = [e.text for e in seen.events if isinstance(e, UserUttered)]
    report["slot"] = seen.get_slot("product")
    await a.save(seen)
    seen.update(SlotSet("product", "未保存"))  # changed after the save, never saved
    report["changed_after_save_reloaded"] = (await a.retrieve(sender)).get_slot("product")
    report["hits"], report["misses"] = a.hits, a.misses
    print(json.dumps(report, ensure_ascii=False))

asyncio.run(main())
"""


def run_probe(endpoint: dict) -> dict:  # type: ignore[type-arg]
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run(
        [str(RASA_PYTHON), "-c", PROBE, json.dumps(endpoint)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def check(report: dict) -> None:  # type: ignore[type-arg]
    assert report["class"] == "CachedSQLTrackerStore"  # not Rasa's silent in-memory fallback
    assert report["same_object"] is True
    assert report["reloaded"] is True
    assert report["unsaved_dropped"] is True
    assert report["sees_other_server"] == ["电线电缆检测", "江阴市周庄镇"]
    assert report["slot"] == "电线电缆"
    assert report["changed_after_save_reloaded"] == "电线电缆"
    assert report["hits"] == 1  # only the retrieve right after a save by the same server


@pytest.mark.rasa
def test_sqlite_tracker_store_from_the_stacks_endpoints(tmp_path: Path) -> None:
    settings = AppSettings(database_url=f"sqlite:///{tmp_path / 'desk.db'}")
    endpoint = rasa_endpoints(settings)["tracker_store"]
    report = run_probe(endpoint)
    check(report)
    assert report["journal"] == "wal"


@pytest.mark.rasa
def test_postgresql_tracker_store_from_the_stacks_endpoints() -> None:
    import psycopg

    name = f"rasa_tracker_{secrets.token_hex(4)}"
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True) as db:
        db.execute(f'CREATE DATABASE "{name}"')
    try:
        settings = AppSettings(database_url=f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}")
        check(run_probe(rasa_endpoints(settings)["tracker_store"]))
    finally:
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True) as db:
            db.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
