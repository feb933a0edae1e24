"""A tracker erased by the app (channels/privacy/erase.py) is never served from the cached SQL
tracker store's memory: a Rasa process that saved (and so cached) a conversation with a mobile
loads it again from SQL after the erasure, on SQLite and PostgreSQL, and keeps saving new turns
in order on top of it."""

import json
import os
import subprocess
from pathlib import Path

import pytest

from app.settings import AppSettings
from app.stack import rasa_endpoints
from channels.privacy.erase import erase_tracker, tracker_engine
from tests.channels.privacy_data import MOBILE, NAME, stored_events

REPO = Path(__file__).resolve().parents[2]
RASA_PYTHON = REPO / ".venv-rasa" / "bin" / "python"

PROBE = r"""
import asyncio, json, sys
from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

config = json.loads(sys.argv[1])
def slot():
    return {"type": "text", "mappings": [{"type": "custom"}]}
domain = Domain.from_dict({"slots": {"contact_mobile": slot(), "contact_name": slot(),
                                     "requested_slot": slot()}})

async def main():
    store = TrackerStore.create(EndpointConfig(**config), domain)
    sender = "web:erasure-probe"
    tracker = DialogueStateTracker.from_events(sender, [
        UserUttered("电线电缆检测"), BotUttered("请问联系人怎么称呼？"),
        SlotSet("requested_slot", "contact_name"), ActionExecuted("action_listen"),
        UserUttered("张伟"), SlotSet("contact_name", "张伟"),
        UserUttered("我的手机是13912345678"), SlotSet("contact_mobile", "13912345678"),
        ActionExecuted("action_listen")], domain.slots)
    await store.save(tracker)  # cached now: the next retrieve would hand this object out
    print("saved", flush=True)
    sys.stdin.readline()  # the app erases the conversation meanwhile
    seen = await store.retrieve(sender)
    report = {"cached_object": seen is tracker, "misses": store.misses,
              "texts": [e.text for e in seen.events if isinstance(e, UserUttered)],
              "slots": [seen.get_slot("contact_name"), seen.get_slot("contact_mobile")]}
    seen.update(UserUttered("江阴市周庄镇"))
    await store.save(seen)
    again = await store.retrieve(sender)
    report["after_next_turn"] = [e.text for e in again.events if isinstance(e, UserUttered)]
    print(json.dumps(report, ensure_ascii=False), flush=True)

asyncio.run(main())
"""


def erase_while_cached(settings: AppSettings) -> dict:  # type: ignore[type-arg]
    endpoint = rasa_endpoints(settings)["tracker_store"]
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="3")
    probe = subprocess.Popen(
        [str(RASA_PYTHON), "-c", PROBE, json.dumps(endpoint)],
        cwd=REPO, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert probe.stdout is not None and probe.stdin is not None
        line = probe.stdout.readline()
        assert line.strip() == "saved", probe.stderr.read() if probe.stderr else line
        assert settings.database_url
        tracker = tracker_engine(settings.database_url)
        erased = erase_tracker(tracker, sender_id="web:erasure-probe", known=set())
        assert erased.events >= 4  # the name, the mobile, both slots
        stored = json.dumps(stored_events(tracker, "web:erasure-probe"), ensure_ascii=False)
        assert MOBILE not in stored and NAME not in stored
        probe.stdin.write("go\n")
        probe.stdin.flush()
        out, err = probe.communicate(timeout=300)
        assert probe.returncode == 0, err[-3000:]
        tracker.dispose()
        return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]
    finally:
        if probe.poll() is None:
            probe.kill()
            probe.wait()


def check(report: dict) -> None:  # type: ignore[type-arg]
    assert report["cached_object"] is False and report["misses"] == 1
    # both answered the question for the contact's name (requested_slot): wholly the datum
    assert report["texts"] == ["电线电缆检测", "[已删除]", "[已删除]"]
    assert report["slots"] == [None, None]
    assert report["after_next_turn"] == [
        "电线电缆检测",
        "[已删除]",
        "[已删除]",
        "江阴市周庄镇",
    ]


@pytest.mark.rasa
def test_sqlite_erased_tracker_is_reloaded(tmp_path: Path) -> None:
    check(erase_while_cached(AppSettings(database_url=f"sqlite:///{tmp_path / 'desk.db'}")))


@pytest.mark.rasa
def test_postgresql_erased_tracker_is_reloaded(postgres_url: str) -> None:
    check(erase_while_cached(AppSettings(database_url=postgres_url)))
