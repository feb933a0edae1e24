"""Rasa's start-up patches (bot/server) keep Rasa's contract: run in the Rasa environment itself."""

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
RASA_PYTHON = REPO / ".venv-rasa" / "bin" / "python"


def probe(script: str, *args: str, timeout: int = 300) -> Any:
    """Run ``script`` under Rasa's interpreter from the project root; its last line, as JSON."""
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run(
        [str(RASA_PYTHON), "-c", script, *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout, check=True,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


# Runs under Rasa's interpreter: the same responses through Rasa's own validation and the patched
# one; prints what each accepted and the message of each refusal.
PROBE = r"""
import json, sys
from jsonschema import ValidationError
import jsonschema.validators as validators
from rasa.core.actions.action import RemoteAction

cases = json.loads(sys.argv[1])
action = RemoteAction("action_probe", None)
checks = []  # one per check of the schema itself (jsonschema.validate does one per call)
cls = validators.validator_for(RemoteAction.action_response_format_spec())
check_schema = cls.check_schema.__func__
cls.check_schema = classmethod(lambda c, *a, **k: checks.append(1) or check_schema(c, *a, **k))

def outcomes():
    out = []
    for case in cases:
        try:
            out.append(["ok", action._validate_action_result(case)])
        except ValidationError as e:
            out.append(["refused", e.message])
    return out

before, checked_before = outcomes(), len(checks)
from bot.server import patches
patches.apply()
applied = patches.apply()
after = outcomes()
print(json.dumps({"before": before, "after": after, "applied": applied,
                  "checked_before": checked_before, "checked_after": len(checks) - checked_before}))
"""

CASES = [
    {"events": [{"event": "slot", "name": "product", "value": "电线电缆"}], "responses": []},
    {"events": [{"event": "active_loop", "name": "need_form"}], "responses": [{"text": "好的"}]},
    {"events": [], "responses": [{"text": "请问在哪里？", "buttons": [{"title": "周庄镇"}]}]},
    {
        "events": [
            {
                "event": "user",
                "text": "电线电缆检测",
                "parse_data": {
                    "intent": {"name": "request_service", "confidence": 0.93},
                    "entities": [{"entity": "product", "value": "电线电缆", "start": 0, "end": 4}],
                },
            },
            {"event": "bot", "text": "好的"},
            {"event": "followup", "name": "action_listen"},
        ]
    },
    {"responses": [{"text": "好的"}]},
    {"events": [{"event": "slot", "value": "缺少名称"}], "responses": []},
    {"events": [{"event": "user", "parse_data": {"intent": {"confidence": "高"}}}]},
    {"events": [{"event": "slot", "name": "product", "value": "x", "timestamp": "昨天"}]},
    {"events": ["slot"]},
    {"events": [{"name": "product", "value": "x"}]},
    None,
    {"events": [{"event": "no_such_event"}], "responses": []},
    {"events": "not a list", "responses": []},
    {"events": [], "responses": ["not an object"]},
]


@pytest.mark.rasa
def test_patched_validation_accepts_and_refuses_exactly_as_rasa_does() -> None:
    assert RASA_PYTHON.exists(), f"{RASA_PYTHON} is missing: run `make setup`"
    report = probe(PROBE, json.dumps(CASES))
    assert report["after"] == report["before"]
    assert [kind for kind, _ in report["after"]] == ["ok"] * 5 + ["refused"] * 9
    assert all("Failed to validate Action server response" in m for _, m in report["after"][5:])
    assert report["applied"] == [
        "without_jax",
        "action_validation",
        "tracker_store_errors",
        "remote_action_failures",
        "sequential_graph",
        "kept_connections",
        "slot_copies",
        "event_types",
        "form_mappings",
    ]  # applied once
    assert report["checked_before"] == len(CASES)  # Rasa's own way checks the schema per response
    assert report["checked_after"] == 1  # once for all the responses


# Under Rasa's interpreter: a custom action whose server refuses the connection fails as before
# (Rasa logs it and carries on) and leaves the marker among the turn's collected messages.
UNREACHABLE_PROBE = r"""
import asyncio, json, sys
from bot.server import patches
patches.apply()
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

async def main():
    collector = CollectingOutputChannel()
    action = RemoteAction("action_open_demand", EndpointConfig(url=sys.argv[1]))
    tracker = DialogueStateTracker("web:probe", [])
    try:
        await action.run(collector, None, tracker, Domain.empty())
        raised = None
    except Exception as exc:
        raised = type(exc).__name__
    print(json.dumps({"raised": raised, "messages": collector.messages}))

asyncio.run(main())
"""


# Under Rasa's interpreter, the trained model: a conversation inside the need form (its place
# asked) gets the enterprise's place while the action server is unreachable. Prints the turn's
# messages and the tracker the store holds afterwards.
FORM_TURN_PROBE = r"""
import asyncio, json, sys
from bot.server import patches
patches.apply()
from rasa.core.agent import Agent
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

model, url = sys.argv[1], sys.argv[2]
SENDER = "web:probe"
BEFORE = [  # the need stated; the form asks for the place (as Rasa stores such a conversation)
    {"event": "action", "name": "action_session_start"},
    {"event": "session_started"},
    {"event": "action", "name": "action_listen"},
    {"event": "user", "text": "我们有一批电线电缆需要做检测",
     "parse_data": {"intent": {"name": "request_service", "confidence": 1.0}, "entities": []}},
    {"event": "slot", "name": "need_text", "value": "我们有一批电线电缆需要做检测"},
    {"event": "slot", "name": "need_product", "value": "电线电缆"},
    {"event": "action", "name": "action_start_need"},
    {"event": "action", "name": "utter_need_start"},
    {"event": "bot", "text": "好的，我来帮您登记这个需求。"},
    {"event": "action", "name": "need_form"},
    {"event": "active_loop", "name": "need_form"},
    {"event": "slot", "name": "need_quantity", "value": "一批"},
    {"event": "slot", "name": "requested_slot", "value": "need_place"},
    {"event": "bot", "text": "请问贵单位在哪个区域？"},
    {"event": "action", "name": "action_listen"},
]

async def main():
    agent = Agent.load(model, action_endpoint=EndpointConfig(url=url))
    events = [Event.from_parameters(e) for e in BEFORE]
    before = DialogueStateTracker.from_events(SENDER, events, agent.domain.slots)
    await agent.tracker_store.save(before)
    collector = CollectingOutputChannel()
    await agent.handle_message(UserMessage("江阴市周庄镇", collector, SENDER,
                                           metadata={"qclinic_turn": "in-4"}))
    tracker = await agent.tracker_store.retrieve(SENDER)
    print(json.dumps({
        "messages": collector.messages,
        "events": len(tracker.events), "before": len(BEFORE),
        "active_loop": tracker.active_loop_name,
        "requested_slot": tracker.get_slot("requested_slot"),
        "need_product": tracker.get_slot("need_product"),
        "need_place": tracker.get_slot("need_place"),
    }, ensure_ascii=False))

asyncio.run(main())
"""


JAX_PROBE = r"""
import json, sys
from bot.server import patches
patches.apply()
import rasa.core.agent  # the server's imports: Rasa, TensorFlow, its TF Lite utilities
from tensorflow.lite.python import util
print(json.dumps({"jax": sys.modules.get("jax") is not None, "lite": util._xla_computation}))
"""


@pytest.mark.rasa
def test_an_unreachable_action_server_marks_the_turn_failed() -> None:
    from tests.support import free_port

    url = f"http://127.0.0.1:{free_port()}/webhook"  # nothing listens there
    report = probe(UNREACHABLE_PROBE, url)
    assert report["raised"] == "RasaException"  # Rasa's own handling is unchanged
    assert report["messages"] == [
        {"recipient_id": "web:probe", "custom": {"qclinic_turn_failed": "action_open_demand"}}
    ]


@pytest.mark.rasa
def test_a_form_turn_without_the_action_server_is_not_kept() -> None:
    """The place given while the action server is away: the turn is marked failed and not saved,
    so the conversation is still in the need form, asking for the place, when the message is
    sent again (a saved turn undone by a rewind took it back to before the form: no demand)."""
    from tests.support import free_port

    model = REPO / "var" / "rasa" / "models" / "qclinic.tar.gz"
    assert model.exists(), f"{model} is missing: run `make setup` to train the model"
    url = f"http://127.0.0.1:{free_port()}/webhook"  # nothing listens there
    report = probe(FORM_TURN_PROBE, str(model), url)
    marker = {"recipient_id": "web:probe", "custom": {"qclinic_turn_failed": "validate_need_form"}}
    assert marker in report["messages"]
    assert report["events"] == report["before"]  # nothing of the turn was stored
    assert report["active_loop"] == "need_form"
    assert report["requested_slot"] == "need_place"
    assert (report["need_product"], report["need_place"]) == ("电线电缆", None)


@pytest.mark.rasa
def test_rasa_starts_without_importing_jax() -> None:
    """TensorFlow's TF Lite utilities import jax when installed; after the patches Rasa and
    TensorFlow load with jax marked absent, as if it were not installed."""
    assert probe(JAX_PROBE) == {"jax": False, "lite": None}


# Runs under Rasa's interpreter with the trained model: the same messages through the same agent,
# parsed and the next action predicted with Rasa's dask runner, then with the patched one.
GRAPH_PROBE = r"""
import json, sys
from rasa.core.agent import Agent
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
import asyncio

original = DaskGraphRunner.run
agent = Agent.load(sys.argv[1])
texts = ["我们有一批电线电缆需要做检测", "江阴市周庄镇", "13912345678", "你们能干啥", "投诉"]

def through():
    out = []
    for n, text in enumerate(texts):
        data = asyncio.run(agent.parse_message(text))
        events = [ActionExecuted("action_listen"),
                  UserUttered(text, data["intent"], data["entities"], data)]
        tracker = DialogueStateTracker.from_events(f"probe-{n}", events, agent.domain.slots)
        prediction = agent.processor._predict_next_with_tracker(tracker)
        best = max(range(len(prediction.probabilities)), key=prediction.probabilities.__getitem__)
        out.append({"intent": data["intent"], "entities": data["entities"],
                    "action": agent.domain.action_names_or_texts[best],
                    "policy": prediction.policy_name})
    return out

before = through()
from bot.server import patches
patches.sequential_graph()
after = through()
print(json.dumps({"replaced": DaskGraphRunner.run is not original,
                  "before": before, "after": after}, ensure_ascii=False))
"""


@pytest.mark.rasa
def test_rasa_graphs_run_without_dask_and_give_the_same_results() -> None:
    model = REPO / "var" / "rasa" / "models" / "qclinic.tar.gz"
    assert model.exists(), f"{model} is missing: run `make setup` to train the model"
    report = probe(GRAPH_PROBE, str(model))
    assert report["replaced"]
    assert report["after"] == report["before"]  # same intents, entities, next action, policy
    first = report["before"][0]
    assert (first["intent"]["name"], first["action"]) == ("request_service", "action_start_need")


# Under Rasa's interpreter: an endpoint (a small aiohttp server that notes the client port of
# each request) called through Rasa's EndpointConfig.request, stock and patched; the server is
# restarted once between two calls, and a pause longer than the kept connection's idle limit
# follows. Prints, per run, each call's answer and the client ports seen.
CONNECTIONS_PROBE = r"""
import asyncio, json, sys
from aiohttp import web
from rasa.utils.endpoints import EndpointConfig

port, patched = int(sys.argv[1]), sys.argv[2] == "patched"
if patched:
    from bot.server import patches
    patches.apply()
seen, bodies = [], []
BODY = {"next_action": "x", "tracker": {"text": "电线/电缆", "f": 0.1 + 0.2, "big": 2**70,
        "nan": float("nan"), "slots": {"need_quantity": "50根", "n": None}, "l": [1e-7, True]}}

async def handle(request):
    seen.append(request.transport.get_extra_info("peername")[1])
    bodies.append(await request.text())
    return web.json_response({"events": [], "responses": [], "n": len(seen)})

async def serve():
    app = web.Application()
    app.router.add_post("/webhook", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner

async def main():
    endpoint = EndpointConfig(url=f"http://127.0.0.1:{port}/webhook", headers={"X-Probe": "1"})
    answers = []
    runner = await serve()
    for _ in range(3):
        answers.append((await endpoint.request(json=BODY))["n"])
    await runner.cleanup()  # the action server restarted
    runner = await serve()
    answers.append((await endpoint.request(json=BODY))["n"])
    await asyncio.sleep(2.5)  # idle longer than the kept connection may be
    answers.append((await endpoint.request(json=BODY))["n"])
    await runner.cleanup()
    same = [json.dumps(json.loads(b)) == json.dumps(BODY) for b in bodies]
    print(json.dumps({"answers": answers, "ports": seen, "same_body": same}))

asyncio.run(main())
"""


@pytest.mark.rasa
def test_endpoint_calls_reuse_one_connection_and_survive_a_restart() -> None:
    from tests.support import free_port

    reports = {}
    for mode in ("stock", "patched"):
        reports[mode] = probe(CONNECTIONS_PROBE, str(free_port()), mode, timeout=120)
    stock, patched = reports["stock"], reports["patched"]
    assert stock["answers"] == patched["answers"] == [1, 2, 3, 4, 5]  # every call answered
    assert stock["same_body"] == patched["same_body"] == [True] * 5  # the same JSON arrives
    assert len(set(stock["ports"])) == 5  # Rasa's own way: a new connection per call
    first, second, third, after_restart, after_pause = patched["ports"]
    assert first == second == third  # one connection for the three calls
    assert len({first, after_restart, after_pause}) == 3  # new ones after a restart, a pause


# Under Rasa's interpreter: each slot of the project's domain, its value set, copied by copy.copy
# stock and patched; prints per slot its class, attributes and whether the copy is independent.
SLOT_COPY_PROBE = r"""
import copy, json, sys
from rasa.shared.core.domain import Domain

def copies(domain):
    out = []
    for slot in domain.slots:
        slot.value = {"float": 2.0, "bool": True, "list": ["a"]}.get(slot.type_name, "值")
        twin = copy.copy(slot)
        twin.value = None
        out.append([type(twin).__name__, sorted(twin.__dict__), repr(twin.__dict__.get("mappings")),
                    twin.mappings is slot.mappings, slot.value is not None, twin == twin])
    return out

before = copies(Domain.load(sys.argv[1]))
from bot.server import patches
patches.slot_copies()
after = copies(Domain.load(sys.argv[1]))
print(json.dumps({"before": before, "after": after, "slots": len(before)}, ensure_ascii=False))
"""


@pytest.mark.rasa
def test_slots_copy_as_rasa_copied_them() -> None:
    report = probe(SLOT_COPY_PROBE, str(REPO / "bot" / "domain"), timeout=120)
    assert report["slots"] >= 60
    assert report["after"] == report["before"]  # same class, attributes, shared mappings
    assert all(row[3] and row[4] for row in report["after"])  # shallow: the value is its own


# Under Rasa's interpreter: every event type name Rasa knows, an unknown one with and without a
# default, and "topic", resolved stock and patched; then an event class defined after the patch.
EVENT_TYPES_PROBE = r"""
import json
from rasa.shared.core.events import ActionExecuted, Event, SlotSet
from rasa.shared.utils.common import all_subclasses

def resolve(name, default=None):
    try:
        found = Event.resolve_by_type(name, default)
    except ValueError as exc:
        return "error: " + str(exc)
    return found.__name__ if found else None

names = sorted({c.type_name for c in all_subclasses(Event)}) + ["topic", "no_such_event"]
before = [resolve(n) for n in names] + [resolve("no_such_event", ActionExecuted)]
from bot.server import patches
patches.event_types()
after = [resolve(n) for n in names] + [resolve("no_such_event", ActionExecuted)]

class LaterEvent(SlotSet):
    type_name = "qclinic_later"

print(json.dumps({"names": len(names), "before": before, "after": after,
                  "later": resolve("qclinic_later")}))
"""


@pytest.mark.rasa
def test_event_types_resolve_as_rasa_resolves_them() -> None:
    report = probe(EVENT_TYPES_PROBE, timeout=120)
    assert report["names"] > 20
    assert report["after"] == report["before"]
    assert report["after"][-3:] == [
        None,
        "error: Unknown event name 'no_such_event'.",
        "ActionExecuted",
    ]
    assert report["later"] == "LaterEvent"  # a class defined after the patch is found


# Under Rasa's interpreter: the project's forms, each asked twice which entity mappings are
# unique to one slot, stock and patched (a new form action object per run, as Rasa makes them).
FORM_MAPPINGS_PROBE = r"""
import json, sys
from rasa.core.actions.forms import FormAction
from rasa.shared.core.domain import Domain

domain = Domain.load(sys.argv[1])

def unique():
    return {form: sorted(FormAction(form, None)._create_unique_entity_mappings(domain))
            for form in domain.form_names for _ in range(2)}

before = unique()
from bot.server import patches
patches.form_mappings()
after, again = unique(), unique()
print(json.dumps({"forms": len(before), "mappings": sum(map(len, before.values())),
                  "before": before, "after": after, "again": again}, ensure_ascii=False))
"""


@pytest.mark.rasa
def test_form_mappings_are_the_ones_rasa_works_out() -> None:
    report = probe(FORM_MAPPINGS_PROBE, str(REPO / "bot" / "domain"), timeout=120)
    assert report["forms"] >= 3 and report["mappings"] > 0
    assert report["after"] == report["again"] == report["before"]
