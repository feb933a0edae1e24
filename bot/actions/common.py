"""Small helpers every feature module uses: the latest message, ids, numbered choices."""

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.validators import is_skip

CHINA = ZoneInfo("Asia/Shanghai")  # the platform's day, as the desk counts it (desk/clock.py)


def china_today() -> date:
    """Today in China: "昨天", the one-month limit and a standard's validity are counted on the
    desk's calendar, not the action server's (which may run in UTC, a day behind China from
    16:00 UTC)."""
    return datetime.now(CHINA).date()


def channel_of(sender_id: str) -> str:
    return "wechat" if sender_id.startswith("wx:") else "web"


def idempotency_key(conversation_id: str, message_id: str) -> str:
    """Stable for one user message of one conversation; carries no personal data."""
    digest = hashlib.sha256(f"{conversation_id}\n{message_id}".encode()).hexdigest()
    return f"bot-{digest[:48]}"


def latest_message_id(tracker: Tracker) -> str:
    """Id of the user message being answered (Rasa gives each one), else its timestamp."""
    message_id = tracker.latest_message.get("message_id")
    if message_id:
        return str(message_id)
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return str(event.get("message_id") or event.get("timestamp") or "")
    return ""


TURN_KEY = "qclinic_turn"  # the app tags each user message with it (channels/gateway.py)


def latest_turn_key(tracker: Tracker) -> str:
    """What makes the message being answered one message, across attempts: the app's key in the
    user event's metadata (the same when the app sends the message again to another Rasa server
    after one died mid-turn, while Rasa gives each attempt a new message id), else that id."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            key = (event.get("metadata") or {}).get(TURN_KEY)
            if key:
                return f"turn:{key}"
            break
    return latest_message_id(tracker)


def latest_text(tracker: Tracker) -> str:
    return str(tracker.latest_message.get("text") or "")


def own_words(text: Any) -> str:
    """What the user typed; "" for a menu or button payload such as "/request_service"."""
    text = "" if text is None else str(text).strip()
    return "" if text.startswith("/") else text


def latest_intent(tracker: Tracker) -> str:
    return str((tracker.latest_message.get("intent") or {}).get("name") or "")


def entity_values(tracker: Tracker, entity: str) -> list[str]:
    """Distinct values of `entity` in the latest user message, in order."""
    values = [
        str(e.get("value"))
        for e in tracker.latest_message.get("entities") or []
        if e.get("entity") == entity and e.get("value")
    ]
    return list(dict.fromkeys(values))


def as_text(value: Any) -> str:
    if isinstance(value, list):
        return "、".join(str(v) for v in value if v)
    return "" if value is None else str(value)


def other_slots_this_turn(tracker: Tracker, slot: str) -> set[str]:
    """Slots (besides `slot` and requested_slot) whose candidates came with this message."""
    return set(tracker.slots_to_validate()) - {slot, "requested_slot"}


def reject(
    dispatcher: CollectingDispatcher, tracker: Tracker, slot: str, response: str
) -> dict[str, Any]:
    """An answer that does not fit `slot`: say what is expected, unless the same message
    corrected another slot (then it was not meant as this answer)."""
    if not other_slots_this_turn(tracker, slot):
        dispatcher.utter_message(response=response)
    return {slot: None}


def skipped(slot_value: Any, tracker: Tracker) -> bool:
    """The user passed on an optional question (跳过, 没有 …, or a plain no)."""
    return is_skip(as_text(slot_value)) or latest_intent(tracker) == "deny"


def optional_text(slot: str, slot_value: Any, tracker: Tracker, *, limit: int) -> dict[str, Any]:
    """A free answer the user may skip: None (no answer yet), "" (skipped) or the text."""
    if slot_value is None:
        return {slot: None}
    if skipped(slot_value, tracker):
        return {slot: ""}
    return {slot: as_text(slot_value).strip()[:limit]}


@dataclass(frozen=True)
class Option:
    """One numbered choice: shown as "n. title" in the text and as a button."""

    title: str
    payload: str


def numbered(options: list[Option]) -> str:
    return "\n".join(f"{n}. {option.title}" for n, option in enumerate(options, 1))


def buttons(options: list[Option]) -> list[dict[str, str]]:
    return [{"title": option.title, "payload": option.payload} for option in options]


def digit_options(titles: list[str]) -> list[Option]:
    """Options answered by their number: the button sends what a WeChat user would type."""
    return [Option(title, str(n)) for n, title in enumerate(titles, 1)]
