"""The need form: start a need, validate what the user gives, reset when done."""

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.validators import clean_name, clean_place, clean_product, normalise_mobile

# Slots of one need; action_reset_need clears them all (demand_last_number is kept).
NEED_SLOTS = (
    "need_text",
    "need_product",
    "need_place",
    "contact_name",
    "contact_mobile",
    "need_service_ids",
    "need_institution_ids",
    "need_pending",
    "need_submit_key",
)
# What belongs to the previous need and not to the enterprise: cleared when a new need starts.
_PER_NEED_SLOTS = ("need_service_ids", "need_institution_ids", "need_pending", "need_submit_key")


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


def start_need_events(products_in_message: list[str]) -> list[EventType]:
    """A new need: forget the previous recommendations; keep place and contact of the same
    enterprise; keep the product only when this message names one (the slot mapping set it)."""
    events: list[EventType] = [SlotSet(name, None) for name in _PER_NEED_SLOTS]
    if not products_in_message:
        events.append(SlotSet("need_product", None))
    return events


def reset_need_events() -> list[EventType]:
    return [SlotSet(name, None) for name in NEED_SLOTS]


class ActionStartNeed(Action):
    def name(self) -> str:
        return "action_start_need"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        return start_need_events(entity_values(tracker, "product"))


class ActionResetNeed(Action):
    def name(self) -> str:
        return "action_reset_need"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        return reset_need_events()


class ValidateNeedForm(FormValidationAction):
    """Each validator returns the cleaned value, or None and a message saying what is expected.

    A None candidate is not an answer (Rasa also sends slots just cleared, e.g. at activation):
    it stays None without a message.
    """

    def name(self) -> str:
        return "validate_need_form"

    async def validate_need_product(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if slot_value is None:
            return {"need_product": None}
        named = entity_values(tracker, "product")
        raw = "、".join(named) if len(named) > 1 and as_text(slot_value) in named else slot_value
        product = clean_product(as_text(raw))
        if product is None:
            dispatcher.utter_message(response="utter_need_product_invalid")
        return {"need_product": product}

    async def validate_need_place(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if slot_value is None:
            return {"need_place": None}
        place = clean_place(as_text(slot_value))
        if place is None:
            dispatcher.utter_message(response="utter_need_place_invalid")
        return {"need_place": place}

    async def validate_contact_name(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if slot_value is None:
            return {"contact_name": None}
        name = clean_name(as_text(slot_value))
        if name is None:
            dispatcher.utter_message(response="utter_need_name_invalid")
        return {"contact_name": name}

    async def validate_contact_mobile(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if slot_value is None:
            return {"contact_mobile": None}
        mobile = normalise_mobile(as_text(slot_value))
        if mobile is None:
            dispatcher.utter_message(response="utter_need_mobile_invalid")
        return {"contact_mobile": mobile}
