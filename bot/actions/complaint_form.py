"""Validation of the complaint form (§7.4.2): each answer cleaned, or asked again with a reason.

The contact step takes a name and mobile (implied consent after the privacy notice), the need's
contact when the user agreed before ("同上"), or anonymity (the desk then gives a follow-up code).
"""

import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.common import (
    as_text,
    latest_intent,
    optional_text,
    other_slots_this_turn,
    reject,
    skipped,
)
from bot.actions.complaint import (
    MAX_CONTENT,
    MAX_REQUEST,
    START,
    complaint_required_slots,
    complaint_type_of,
    contact_options,
    known_contact,
)
from bot.actions.consent import record_consent
from bot.actions.listening import (
    COMPLAINT_SLOT_OF,
    heard_slots,
    notice_shown,
    say_first,
    wrong_kind,
)
from bot.actions.validators import (
    clean_detail,
    clean_name,
    compact,
    is_agreement,
    is_anonymous,
    is_refusal,
    is_skip,
    parse_choice,
)
from knowledge.personal_data import find_mobile, mask_mobile

_REUSE = re.compile(r"同上|刚才|之前|上面|一样|原来的")
_FREE_TEXT = ("complaint_request", "complaint_content", "complaint_institution")
MIN_ANSWER = 2
_CONTACT_WORDS = re.compile(
    r"我的|我|手机号?码?|电话号?码?|联系方式|联系人|号码|是|叫|姓名|名字|[:：,，。\s]"
)


_TRAILING_CONTACT = re.compile(
    r"[，,。\s]*(?:我的|我)?(?:手机|电话|联系方式|联系人)(?:号码|号)?(?:是|为)?[:：]?\s*$"
)


def without_contact(text: str, heard: dict[str, Any]) -> str:
    """The answer once the contact given with it is taken out: "" when it was only that."""
    rest = text
    for value in heard.values():
        if isinstance(value, str) and value:
            rest = rest.replace(value, " ")
    rest = re.sub(r"\+?86|[-\s]", " ", rest).strip(" ，,。；;")
    rest = _TRAILING_CONTACT.sub("", rest).strip(" ，,。；;")
    return "" if not _CONTACT_WORDS.sub("", rest) else rest


class ValidateComplaintForm(FormValidationAction):
    def name(self) -> str:
        return "validate_complaint_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        return complaint_required_slots(tracker.slots)

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """A mobile (and name) given at any question is kept as the contact, and is not taken
        as the answer to that question (「您希望如何处理？」「张伟 13912345678」)."""
        heard = heard_slots(tracker, COMPLAINT_SLOT_OF)
        requested = tracker.get_slot("requested_slot")
        candidate = tracker.slots_to_validate().get(requested)
        if heard and requested in _FREE_TEXT and isinstance(candidate, str):
            rest = without_contact(candidate, heard)
            heard[requested] = rest if len(rest) >= MIN_ANSWER else None
        tracker.add_slots([SlotSet(name, value) for name, value in heard.items()])
        events = await super().run(dispatcher, tracker, domain)
        if heard.get("complaint_contact_mobile") and requested != "complaint_contact_mobile":
            say_first(dispatcher, response="utter_complaint_contact_noted")
        return events

    async def next_requested_slot(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> EventType | None:
        """Always said, also when this turn's slots happen to equal the domain's list."""
        required = complaint_required_slots(dict(tracker.slots))
        return SlotSet(
            "requested_slot", next((s for s in required if tracker.get_slot(s) is None), None)
        )

    async def validate_complaint_consent(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if slot_value is None or isinstance(slot_value, bool):
            return {"complaint_consent": slot_value}
        text, intent = as_text(slot_value), latest_intent(tracker)
        choice = parse_choice(text, 2)  # 1. 同意  2. 不同意（匿名）
        if choice == 2 or is_refusal(text) or is_anonymous(text) or intent == "deny":
            await record_consent(tracker.sender_id, agreed=False)
            return {
                "complaint_consent": False,
                "privacy_consent": False,
                "complaint_contact_mobile": "",
                "complaint_contact_name": "",
            }
        if choice == 1 or is_agreement(text) or intent == "affirm":
            await record_consent(tracker.sender_id, agreed=True)
            return {"complaint_consent": True, "privacy_consent": True}
        return {"complaint_consent": None}  # asked again, briefly

    async def validate_complaint_institution(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if slot_value is None:
            return {"complaint_institution": None}
        name = clean_detail(as_text(slot_value).removeprefix("投诉"))
        if name is None or len(name) < 2:
            return reject(
                dispatcher, tracker, "complaint_institution", "utter_complaint_institution_invalid"
            )
        return {"complaint_institution": name}

    async def validate_complaint_type(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if slot_value is None:
            return {"complaint_type": None}
        code = complaint_type_of(as_text(slot_value))
        if code is None:
            return reject(dispatcher, tracker, "complaint_type", "utter_complaint_type_invalid")
        return {"complaint_type": code}

    async def validate_complaint_content(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        text = as_text(slot_value).strip()
        if slot_value is None:
            return {"complaint_content": None}
        if len(text) < 2 or len(text) > MAX_CONTENT or is_skip(text):
            return reject(
                dispatcher, tracker, "complaint_content", "utter_complaint_content_invalid"
            )
        return {"complaint_content": text}

    async def validate_complaint_request(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        return optional_text("complaint_request", slot_value, tracker, limit=MAX_REQUEST)

    async def validate_complaint_contact_mobile(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if slot_value is None:
            return {"complaint_contact_mobile": None}
        text, intent = as_text(slot_value), latest_intent(tracker)
        consented = tracker.get_slot("privacy_consent") is True
        known = known_contact(dict(tracker.slots))
        choice = parse_choice(text, len(contact_options(known)))
        if known and (choice == 1 or _REUSE.search(text) or is_agreement(text)):
            return {"complaint_contact_mobile": known[1], "complaint_contact_name": known[0]}
        mobile = find_mobile(text)
        anonymous = choice is not None or is_anonymous(text) or is_refusal(text)
        if mobile is None and (anonymous or intent == "deny"):
            if not consented:
                await record_consent(tracker.sender_id, agreed=False)
            return {
                "complaint_contact_mobile": "",
                "complaint_contact_name": "",
                "privacy_consent": consented,
            }
        if mobile is None:
            return reject(
                dispatcher, tracker, "complaint_contact_mobile", "utter_complaint_contact_invalid"
            )
        result: dict[str, Any] = {"complaint_contact_mobile": mobile}
        asked = tracker.get_slot("requested_slot") == "complaint_contact_mobile"
        if not consented and asked:  # answering after the notice is consent
            await record_consent(tracker.sender_id, agreed=True)
            result["privacy_consent"] = True
        return result

    async def validate_complaint_contact_name(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if slot_value is None or slot_value == "":
            return {"complaint_contact_name": slot_value}
        if skipped(slot_value, tracker):
            return {"complaint_contact_name": ""}
        name = clean_name(as_text(slot_value))
        if name is None or wrong_kind("complaint_contact_name", name):
            return reject(dispatcher, tracker, "complaint_contact_name", "utter_need_name_invalid")
        return {"complaint_contact_name": name}

    async def validate_complaint_decision(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if slot_value is None:
            return {"complaint_decision": None}
        text, intent = as_text(slot_value), latest_intent(tracker)
        choice = parse_choice(text, 2)
        said = compact(text)
        if choice == 2 or intent in ("deny", "cancel") or re.search(r"取消|不提交|不投诉", said):
            return {"complaint_decision": "cancel"}
        if choice == 1 or intent == "affirm" or is_agreement(said) or re.search(r"确认|提交", said):
            return {"complaint_decision": "submit"}
        if not other_slots_this_turn(tracker, "complaint_decision"):
            dispatcher.utter_message(response="utter_complaint_decision_invalid")
        return {"complaint_decision": None}


class ActionAskComplaintConsent(Action):
    """A mobile given before the notice could be shown: kept, and the notice asked for it."""

    def name(self) -> str:
        return "action_ask_complaint_consent"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        mobile = mask_mobile(str(tracker.get_slot("complaint_contact_mobile") or ""))
        response = (
            "utter_ask_complaint_consent_again"
            if notice_shown(tracker, START)
            else "utter_ask_complaint_consent"
        )
        dispatcher.utter_message(response=response, mobile=mobile)
        return []
