"""Validation of the name-change form (§7.1.1.6): the new name, the day it changed (within one
month), and the new 营业执照 uploaded in chat.

A change older than one month is not asked for its licence: the form ends there and the desk
refuses it in its own words (the limit and the way forward), so nothing is uploaded in vain."""

from datetime import date
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.common import (
    as_text,
    china_today,
    latest_intent,
    latest_text,
    own_words,
    reject,
)
from bot.actions.registration_docs import (
    NO_DOCUMENT,
    changed_on_of,
    name_change_deadline,
)
from bot.actions.registration_form import clean_company, label_upload


def is_late(changed_on: Any) -> bool:
    """Whether the day a name changed (ISO) is more than one month ago."""
    try:
        day = date.fromisoformat(str(changed_on))
    except ValueError:
        return False
    return day < name_change_deadline(china_today())


class ValidateNameChangeForm(FormValidationAction):
    """§7.1.1.6: the new name, the day it changed, the new 营业执照."""

    def name(self) -> str:
        return "validate_name_change_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """A bare day ("昨天", "2026-10-17") answers the day asked for, even when the NLU took it
        for a question (the slot's mapping leaves questions out): not a knowledge-base miss."""
        asked = tracker.get_slot("requested_slot") == "reg_changed_on"
        if asked and tracker.active_loop.get("name") == "name_change_form":
            text = own_words(latest_text(tracker))
            heard = "reg_changed_on" in tracker.slots_to_validate()
            if text and not heard and changed_on_of(text, today=china_today()) is not None:
                tracker.add_slots([SlotSet("reg_changed_on", text)])
        return await super().run(dispatcher, tracker, domain)

    async def validate_reg_new_name(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if slot_value is None:
            return {"reg_new_name": None}
        name = clean_company(as_text(slot_value).removeprefix("新名称").lstrip("是：:"))
        if name is None:
            return reject(dispatcher, tracker, "reg_new_name", "utter_registration_company_invalid")
        return {"reg_new_name": name}

    async def validate_reg_changed_on(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if slot_value is None:
            return {"reg_changed_on": None}
        today = china_today()
        day = changed_on_of(as_text(slot_value), today=today)
        if day is None or day > today:
            return reject(
                dispatcher, tracker, "reg_changed_on", "utter_registration_changed_on_invalid"
            )
        if day < name_change_deadline(today):  # too late: no licence asked; the desk refuses it
            return {"reg_changed_on": day.isoformat(), "reg_new_licence": NO_DOCUMENT}
        return {"reg_changed_on": day.isoformat()}

    async def validate_reg_new_licence(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if slot_value is None:
            return {"reg_new_licence": None}
        if slot_value == NO_DOCUMENT and is_late(tracker.get_slot("reg_changed_on")):
            return {"reg_new_licence": NO_DOCUMENT}
        if latest_intent(tracker) != "upload_document":
            dispatcher.utter_message(response="utter_registration_upload_how")
            return {"reg_new_licence": None}
        return await label_upload(tracker, dispatcher, "reg_new_licence", "business_licence")
