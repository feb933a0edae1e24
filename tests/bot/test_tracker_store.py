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


def run_probe(endpoint: dict, probe: str = PROBE) -> dict:  # type: ignore[type-arg]
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run(
        [str(RASA_PYTHON), "-c", probe, json.dumps(endpoint)],
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


# Under Rasa's interpreter, on PostgreSQL through a proxy the test cuts (a restart): the store
# waits for the database, stores nothing twice, and past its wait the error reaches Rasa
# (bot/server/patches.py: no silent fallback to an empty tracker).
AWAY_PROBE = r"""
import asyncio, json, sys, time
from bot.server import patches, tracker_store
patches.apply()
from rasa.core.agent import Agent
from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

domain = Domain.from_dict({})
store = TrackerStore.create(EndpointConfig(**json.loads(sys.argv[1])), domain)

def cut():  # the test cuts the database now
    print("cut", flush=True)
    sys.stdin.readline()

async def main():
    report = {"unwrapped": Agent._create_tracker_store(store, domain) is store}
    sender = "web:away"
    await store.save(DialogueStateTracker.from_events(sender, [UserUttered("电线电缆检测"),
        ActionExecuted("action_listen")], domain.slots))
    cut()
    started = time.monotonic()
    tracker = await store.retrieve(sender)
    report["waited_s"] = time.monotonic() - started
    tracker.update(UserUttered("江阴市周庄镇"))
    await store.save(tracker)
    with store.session_scope() as session:
        report["stored"] = session.query(store.SQLEvent).filter_by(sender_id=sender).count()
    report["events"] = len(tracker.events)
    tracker_store.AWAY_S = 1.0
    cut()
    try:
        await store.retrieve(sender)
        report["raised"] = None
    except Exception as exc:
        report["raised"] = type(exc).__name__
    print(json.dumps(report), flush=True)

asyncio.run(main())
"""


@pytest.mark.rasa
def test_postgresql_tracker_store_waits_for_a_restarting_database() -> None:
    import threading

    import psycopg

    from tests.tcp_proxy import TcpProxy

    name = f"rasa_tracker_{secrets.token_hex(4)}"
    admin = "postgresql://postgres@127.0.0.1:5432/test"
    with psycopg.connect(admin, autocommit=True) as db:
        db.execute(f'CREATE DATABASE "{name}"')
    proxy = TcpProxy(5432)
    try:
        url = f"postgresql+psycopg://postgres@127.0.0.1:{proxy.port}/{name}"
        endpoint = rasa_endpoints(AppSettings(database_url=url))["tracker_store"]
        env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="3")
        probe = subprocess.Popen(
            [str(RASA_PYTHON), "-c", AWAY_PROBE, json.dumps(endpoint)],
            cwd=REPO, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert probe.stdin is not None and probe.stdout is not None
        assert probe.stdout.readline().strip() == "cut"
        proxy.down()  # a restart: every connection cut, new ones refused for 2 s
        threading.Timer(2.0, proxy.up).start()
        probe.stdin.write("\n")
        probe.stdin.flush()
        assert probe.stdout.readline().strip() == "cut"
        proxy.down()  # away for longer than the store waits
        probe.stdin.write("\n")
        probe.stdin.flush()
        out, err = probe.communicate(timeout=120)
        assert probe.returncode == 0, err[-3000:]
        report = json.loads(out.strip().splitlines()[-1])
    finally:
        proxy.close()
        with psycopg.connect(admin, autocommit=True) as db:
            db.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    assert report["unwrapped"] is True  # Rasa gets the store itself, not its fail-safe wrapper
    assert 1.8 < report["waited_s"] < 8  # waited for the database, then answered
    assert report["stored"] == report["events"] == 3  # each event once
    assert report["raised"] == "OperationalError"  # the turn fails instead of starting afresh


# Under Rasa's interpreter: the same turns through this store and through Rasa's own SQL store,
# each on its own database, store the same rows; a session that expired in memory included.
SAME_ROWS_PROBE = r"""
import asyncio, json, sys
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from bot.server.tracker_store import CachedSQLTrackerStore

def slot():
    return {"type": "text", "mappings": [{"type": "custom"}]}

domain = Domain.from_dict({"slots": {"product": slot(), "place": slot()}})
parse = {"intent": {"name": "request_service", "confidence": 0.9}, "entities": []}
TURNS = lambda: [  # made per turn: Rasa's store finds a session's rows by their timestamps
    [UserUttered("我们有一批电线电缆需要做检测", parse_data=parse), SlotSet("product", "电线电缆"),
     ActionExecuted("utter_ask_place"), ActionExecuted("action_listen")],
    [UserUttered("江阴市周庄镇", parse_data=parse), SlotSet("place", "江阴市周庄镇"),
     ActionExecuted("action_listen")],
    # the session expired: Rasa starts a new one in the tracker it holds
    [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
     UserUttered("你好", parse_data=parse), ActionExecuted("utter_greet"),
     ActionExecuted("action_listen")],
    [UserUttered("查进度", parse_data=parse), ActionExecuted("action_listen")],
]

async def rows(store):
    sender = "web:same-rows"
    start = [ActionExecuted("action_session_start"), SessionStarted(),
             ActionExecuted("action_listen")]
    await store.save(DialogueStateTracker.from_events(sender, start, domain.slots))
    for n in range(4):
        turn = TURNS()[n]
        tracker = await store.retrieve(sender)
        for event in turn:
            tracker.update(event)
        await store.save(tracker)
        if not any(isinstance(e, SessionStarted) for e in turn):
            # saved again with nothing new: nothing stored (after a new session in memory,
            # Rasa's own store would count only the new session's rows and store the rest again)
            await store.save(tracker)
    with store.session_scope() as session:
        found = session.query(store.SQLEvent).filter_by(sender_id=sender).order_by(
            store.SQLEvent.id)
        out = []
        for r in found:
            data = json.loads(r.data)
            data.pop("timestamp", None)
            out.append([r.type_name, r.intent_name, r.action_name, data])
        return out

async def main():
    config = json.loads(sys.argv[1])
    ours = CachedSQLTrackerStore(domain, **config["ours"])
    stock = SQLTrackerStore(domain, **config["stock"])
    report = {"ours": await rows(ours), "stock": await rows(stock), "hits": ours.hits,
              "counted": ours.counted_saves}
    print(json.dumps(report, ensure_ascii=False))

asyncio.run(main())
"""


def same_rows(config: dict) -> None:  # type: ignore[type-arg]
    report = run_probe(config, SAME_ROWS_PROBE)
    assert len(report["stock"]) == 3 + sum((4, 3, 6, 2))  # each event once
    assert report["ours"] == report["stock"]
    assert report["hits"] == 3  # every turn but the one after the session expired in memory
    assert report["counted"] == 2  # the first save and the one of that turn: the rest knew


@pytest.mark.rasa
def test_saves_store_the_same_rows_as_rasas_own_store_on_sqlite(tmp_path: Path) -> None:
    same_rows({kind: {"dialect": "sqlite", "db": str(tmp_path / f"{kind}.db")}
               for kind in ("ours", "stock")})  # fmt: skip


@pytest.mark.rasa
def test_saves_store_the_same_rows_as_rasas_own_store_on_postgresql() -> None:
    import psycopg

    admin = "postgresql://postgres@127.0.0.1:5432/test"
    names = {kind: f"rasa_rows_{kind}_{secrets.token_hex(4)}" for kind in ("ours", "stock")}
    with psycopg.connect(admin, autocommit=True) as db:
        for name in names.values():
            db.execute(f'CREATE DATABASE "{name}"')
    try:
        same_rows({kind: {"dialect": "postgresql", "host": "127.0.0.1", "port": 5432,
                          "username": "postgres", "db": name}
                   for kind, name in names.items()})  # fmt: skip
    finally:
        with psycopg.connect(admin, autocommit=True) as db:
            for name in names.values():
                db.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
