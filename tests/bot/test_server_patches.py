"""Rasa's start-up patches (bot/server) keep Rasa's contract: run in the Rasa environment itself."""

import json
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RASA_PYTHON = REPO / ".venv-rasa" / "bin" / "python"

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
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run(
        [str(RASA_PYTHON), "-c", PROBE, json.dumps(CASES)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["after"] == report["before"]
    assert [kind for kind, _ in report["after"]] == ["ok"] * 5 + ["refused"] * 9
    assert all("Failed to validate Action server response" in m for _, m in report["after"][5:])
    assert report["applied"] == [
        "without_jax",
        "action_validation",
        "tracker_store_errors",
        "remote_action_failures",
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

    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="3")
    url = f"http://127.0.0.1:{free_port()}/webhook"  # nothing listens there
    done = subprocess.run(
        [str(RASA_PYTHON), "-c", UNREACHABLE_PROBE, url],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["raised"] == "RasaException"  # Rasa's own handling is unchanged
    assert report["messages"] == [
        {"recipient_id": "web:probe", "custom": {"qclinic_turn_failed": "action_open_demand"}}
    ]


@pytest.mark.rasa
def test_rasa_starts_without_importing_jax() -> None:
    """TensorFlow's TF Lite utilities import jax when installed; after the patches Rasa and
    TensorFlow load with jax marked absent, as if it were not installed."""
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run(
        [str(RASA_PYTHON), "-c", JAX_PROBE],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"jax": False, "lite": None}
