"""Validation of the need form: each answer cleaned, or asked for again.

A correction ("电话说错了，是139…") arrives as an entity at any step and is validated like a first
answer; a wrong one is asked for again. Mobiles and credit codes are read by
knowledge.personal_data, the rules the desk applies too.
"""

from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.common import (
    as_text,
    entity_values,
    latest_intent,
    latest_text,
    other_slots_this_turn,
    reject,
    skipped,
)
from bot.actions.consent import record_consent
from bot.actions.listening import (
    NEED_SLOT_OF,
    answer_in_passing,
    fuller,
    heard_slots,
    kept_beside,
    new_details,
    noted_text,
    question_of,
    say_first,
    wrong_kind,
)
from bot.actions.need import DETAIL_SLOTS, RECOMMENDATION_SLOTS, need_required_slots
from bot.actions.need_summary import FEATURE, decision_for
from bot.actions.recommend import need_query
from bot.actions.validators import (
    clean_detail,
    clean_name,
    clean_place,
    clean_product,
    is_agreement,
    is_refusal,
    parse_choice,
    service_mode_of,
)
from knowledge.personal_data import find_credit_code, find_mobile


def _after_recommendation(tracker: Tracker) -> dict[str, Any]:
    """What changes when product or place is corrected after the recommendation: recommend
    again for the new need before the summary is shown."""
    if tracker.get_slot("requested_slot") != "need_decision":
        return {}
    return {name: None for name in (*RECOMMENDATION_SLOTS, "need_chosen_institution")}


class ValidateNeedForm(FormValidationAction):
    """Each validator returns the cleaned value, or None and a message saying what is expected.

    A None candidate is not an answer (Rasa also sends slots just cleared, e.g. at activation):
    it stays None without a message. An answer that does not fit while another slot came with
    the same message (a correction of something else) stays None without a message too.
    """

    def name(self) -> str:
        return "validate_need_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Every detail of the message becomes a candidate (bot.actions.listening) before the
        validators run; a question asked in passing is answered; what was kept beside the open
        question is acknowledged, before the question is asked again."""
        activating = not tracker.active_loop.get("name")
        requested = tracker.get_slot("requested_slot")
        heard = heard_slots(tracker, NEED_SLOT_OF)
        tracker.add_slots([SlotSet(name, value) for name, value in heard.items()])
        fresh = new_details(tracker, heard, NEED_SLOT_OF)  # heard, or mapped from entities
        question = question_of(tracker)
        events = await super().run(dispatcher, tracker, domain)
        kept = kept_beside(events, fresh, requested)
        if kept and not activating:
            say_first(dispatcher, response="utter_need_noted", noted=noted_text(FEATURE, kept))
        if question and (activating or heard or latest_intent(tracker) != "ask_faq"):
            slots = dict(tracker.slots)
            need = need_query(slots.get("need_text"), slots.get("need_product"))
            await answer_in_passing(dispatcher, question, need.replace(question, ""))
        if activating and tracker.get_slot("need_detected") is not None:
            events.append(SlotSet("need_detected", None))
        return events

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        return need_required_slots(tracker.slots)

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
        if product is None or wrong_kind("need_product", product):
            return reject(dispatcher, tracker, "need_product", "utter_need_product_invalid")
        return {"need_product": product, **_after_recommendation(tracker)}

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
        if place is None or wrong_kind("need_place", place):
            return reject(dispatcher, tracker, "need_place", "utter_need_place_invalid")
        return {"need_place": place, **_after_recommendation(tracker)}

    async def _detail(
        self, slot: str, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        if slot_value is None:
            return {slot: None}
        if skipped(slot_value, tracker):
            return {slot: ""}  # answered: nothing to say
        value = clean_detail(as_text(slot_value))
        if value is None or wrong_kind(slot, value):
            return reject(dispatcher, tracker, slot, "utter_need_detail_invalid")
        return {slot: fuller(slot, value, tracker)}

    async def validate_need_quantity(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        return await self._detail("need_quantity", slot_value, dispatcher, tracker)

    async def validate_need_date(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        return await self._detail("need_date", slot_value, dispatcher, tracker)

    async def validate_need_company(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        result = await self._detail("need_company", slot_value, dispatcher, tracker)
        code = find_credit_code(as_text(slot_value))
        if result.get("need_company") and code:  # "某某公司 9132…": both at once
            result["need_company"] = clean_detail(as_text(slot_value).replace(code, "")) or None
            result["need_credit_code"] = code
        return result

    async def validate_need_service_mode(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if slot_value is None:
            return {"need_service_mode": None}
        mode = service_mode_of(as_text(slot_value))
        if mode is not None:
            return {"need_service_mode": mode}
        if skipped(slot_value, tracker):
            return {"need_service_mode": ""}
        return reject(dispatcher, tracker, "need_service_mode", "utter_need_service_mode_invalid")

    async def validate_need_credit_code(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if slot_value is None:
            return {"need_credit_code": None}
        if skipped(slot_value, tracker):
            return {"need_credit_code": ""}
        code = find_credit_code(as_text(slot_value))
        if code is None:
            dispatcher.utter_message(response="utter_need_credit_code_invalid")
        return {"need_credit_code": code}

    async def validate_privacy_consent(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if slot_value is None or isinstance(slot_value, bool):
            return {"privacy_consent": slot_value}
        text, intent = as_text(slot_value), latest_intent(tracker)
        choice = parse_choice(text, 2)  # 1. 同意  2. 不同意
        if choice == 2 or is_refusal(text) or intent == "deny":
            await record_consent(tracker.sender_id, agreed=False)
            return {"privacy_consent": False, "contact_name": None, "contact_mobile": None}
        if choice == 1 or is_agreement(text) or intent == "affirm":
            await record_consent(tracker.sender_id, agreed=True)
            return {"privacy_consent": True}
        return {"privacy_consent": None}  # asked again

    async def _implied_consent(self, tracker: Tracker) -> dict[str, Any]:
        """Answering the contact question after the notice is consent (recorded once); a
        contact volunteered before the notice was shown is kept, and the notice is asked."""
        if tracker.get_slot("privacy_consent") is True:
            return {}
        if tracker.get_slot("requested_slot") not in ("contact_name", "contact_mobile"):
            return {}
        await record_consent(tracker.sender_id, agreed=True)
        return {"privacy_consent": True}

    async def validate_contact_name(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if slot_value is None:
            return {"contact_name": None}
        text, intent = as_text(slot_value), latest_intent(tracker)
        asked_with_notice = (
            tracker.get_slot("requested_slot") == "contact_name"
            and tracker.get_slot("privacy_consent") is not True
        )
        if asked_with_notice and not entity_values(tracker, "person"):
            if is_refusal(text) or intent == "deny":
                await record_consent(tracker.sender_id, agreed=False)
                return {"contact_name": None, "contact_mobile": None, "privacy_consent": False}
            if is_agreement(text) or intent == "affirm":
                return {"contact_name": None, **await self._implied_consent(tracker)}
        name = clean_name(text)
        if name is None or wrong_kind("contact_name", name):  # 「下周」 is never a name
            return reject(dispatcher, tracker, "contact_name", "utter_need_name_invalid")
        return {"contact_name": name, **await self._implied_consent(tracker)}

    async def validate_contact_mobile(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if slot_value is None:
            return {"contact_mobile": None}
        mobile = find_mobile(as_text(slot_value))
        if mobile is None:
            return reject(dispatcher, tracker, "contact_mobile", "utter_need_mobile_invalid")
        return {"contact_mobile": mobile, **await self._implied_consent(tracker)}

    async def validate_need_decision(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if slot_value is None:
            return {"need_decision": None}
        decision = decision_for(
            as_text(slot_value),
            latest_intent(tracker),
            titles=list(tracker.get_slot("need_institution_titles") or []),
            ids=list(tracker.get_slot("need_institution_ids") or []),
        )
        if decision is None:
            if latest_text(tracker) and not other_slots_this_turn(tracker, "need_decision"):
                dispatcher.utter_message(response="utter_need_decision_invalid")
            return {"need_decision": None}
        if decision.action == "details":
            cleared = {name: None for name in DETAIL_SLOTS}
            return {"need_decision": None, "need_details_wanted": True, **cleared}
        return {
            "need_decision": decision.action,
            "need_chosen_institution": decision.institution_id,
        }
