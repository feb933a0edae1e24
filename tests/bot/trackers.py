"""Trackers as Rasa sends them to the action server, built from the real domain."""

from pathlib import Path
from typing import Any

import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

DOMAIN_DIR = Path(__file__).resolve().parents[2] / "bot" / "domain"
CONVERSATION = "web:5f0c7a1e-test"


def load_domain() -> dict[str, Any]:
    """The real domain, merged from bot/domain/*.yml the way Rasa merges it."""
    merged: dict[str, Any] = {}
    for path in sorted(DOMAIN_DIR.glob("*.yml")):
        part = yaml.safe_load(path.read_text(encoding="utf-8"))
        for key, value in part.items():
            if isinstance(value, dict):
                merged.setdefault(key, {}).update(value)
            elif isinstance(value, list):
                merged.setdefault(key, []).extend(value)
            else:
                merged[key] = value
    return merged


DOMAIN = load_domain()
ALL_SLOTS = {name: None for name in DOMAIN["slots"]} | {"requested_slot": None}


def user_event(
    text: str,
    intent: str = "inform",
    message_id: str = "m-1",
    entities: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "event": "user",
        "text": text,
        "message_id": message_id,
        "parse_data": {"intent": {"name": intent, "confidence": 0.9}, "entities": entities or []},
    }


def make_tracker(
    *,
    slots: dict[str, Any] | None = None,
    text: str = "",
    intent: str = "inform",
    entities: list[dict[str, Any]] | None = None,
    candidates: dict[str, Any] | None = None,
    message_id: str = "m-1",
    active_loop: str | None = None,
    sender_id: str = CONVERSATION,
    history: list[dict[str, Any]] | None = None,
) -> Tracker:
    """A tracker as Rasa sends it; `slots` were set in earlier turns, `candidates` are slot
    events extracted this turn and `history` events before the latest user message."""
    events = [
        # the slots' values came from earlier turns, as Rasa's events show them
        *({"event": "slot", "name": k, "value": v} for k, v in (slots or {}).items()),
        *(history or []),
        {"event": "action", "name": "action_listen"},
        user_event(text, intent, message_id, entities),
    ]
    events += [{"event": "slot", "name": k, "value": v} for k, v in (candidates or {}).items()]
    return Tracker.from_dict(
        {
            "sender_id": sender_id,
            "slots": ALL_SLOTS | (slots or {}) | (candidates or {}),
            "latest_message": {
                "text": text,
                "message_id": message_id,
                "intent": {"name": intent, "confidence": 0.9},
                "entities": entities or [],
            },
            "events": events,
            "active_loop": {"name": active_loop} if active_loop else {},
            "latest_action_name": "action_listen",
        }
    )


def responses(dispatcher: CollectingDispatcher) -> list[str | None]:
    return [message.get("response") for message in dispatcher.messages]


def entity(name: str, value: str, text: str | None = None) -> dict[str, Any]:
    """An entity of the latest message (start/end from ``text`` when given)."""
    start = text.index(value) if text and value in text else 0
    return {"entity": name, "value": value, "start": start, "end": start + len(value)}


# --- hand back from an expert ---------------------------------------------------------------------

EXPERT = "li.expert"


def expert_event(text: str, *, escalation_id: int = 7, expert: str = EXPERT) -> dict[str, Any]:
    """An expert's message as the app writes it into the tracker: a bot event with metadata."""
    return {
        "event": "bot",
        "text": text,
        "data": {},
        "metadata": {"qclinic_expert": expert, "escalation_id": escalation_id},
    }


def escalated(text: str = "转人工", *, message_id: str = "m-h") -> list[dict[str, Any]]:
    """A request for a person, as the events of the turn that opened the escalation."""
    return [
        {"event": "action", "name": "action_listen"},
        user_event(text, "request_human", message_id),
        {"event": "action", "name": "action_escalate"},
        {"event": "bot", "text": "好的，已为您转接质量门诊人工专家……", "data": {}, "metadata": {}},
        {"event": "action", "name": "action_listen"},
    ]


def handback_tracker(
    outcome: str | None,
    *,
    consultation: list[dict[str, Any]] | None = None,
    history: list[dict[str, Any]] | None = None,
    slots: dict[str, Any] | None = None,
    active_loop: str | None = None,
) -> Tracker:
    """The tracker as the app leaves it before executing action_handoff_back: the escalation,
    what was said during the consultation (`consultation`: user and expert events) and the
    outcome slot."""
    events = [*(history or []), *escalated(), *(consultation or [])]
    if outcome is not None:
        events.append({"event": "slot", "name": "handoff_outcome", "value": outcome})
    last_user = next(e for e in reversed(events) if e["event"] == "user")
    return Tracker.from_dict(
        {
            "sender_id": CONVERSATION,
            "slots": ALL_SLOTS | (slots or {}) | {"handoff_outcome": outcome},
            "latest_message": {
                "text": last_user["text"],
                "message_id": last_user["message_id"],
                "intent": last_user["parse_data"]["intent"],
                "entities": [],
            },
            "events": events,
            "active_loop": {"name": active_loop} if active_loop else {},
            "latest_action_name": "action_listen",
        }
    )
