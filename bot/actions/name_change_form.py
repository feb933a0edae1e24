"""Validation of the name-change form (§7.1.1.6): the new name, the day it changed (within one
month: the desk checks), and the new 营业执照 uploaded in chat."""

from datetime import date
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.common import as_text, latest_intent, reject
from bot.actions.registration_docs import changed_on_of
from bot.actions.registration_form import clean_company, label_upload


class ValidateNameChangeForm(FormValidationAction):
    """§7.1.1.6: the new name, the day it changed, the new 营业执照."""

    def name(self) -> str:
        return "validate_name_change_form"

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
        today = date.today()
        day = changed_on_of(as_text(slot_value), today=today)
        if day is None or day > today:
            return reject(
                dispatcher, tracker, "reg_changed_on", "utter_registration_changed_on_invalid"
            )
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
        if latest_intent(tracker) != "upload_document":
            dispatcher.utter_message(response="utter_registration_upload_how")
            return {"reg_new_licence": None}
        return await label_upload(tracker, dispatcher, "reg_new_licence", "business_licence")
