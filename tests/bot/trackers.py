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
    """A tracker as Rasa sends it; `candidates` are slot events extracted this turn and
    `history` events before the latest user message."""
    events = [
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
