"""The need (§7.2, Appendix A): its slots, start and reset, and which of them the need form asks
for this turn. The form's validation is in need_form.py, its summary in need_summary.py.

The form's slots are computed per turn (``required_slots``): the details only once the user asks
to add them (or volunteers one), the contact unless the user declined the privacy notice, and the
decision last.
"""

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.catalogue import chosen_service_events
from bot.actions.common import entity_values, latest_text, own_words
from bot.actions.details import read_details, states_a_need

DETAIL_SLOTS = (
    "need_quantity",
    "need_date",
    "need_service_mode",
    "need_company",
    "need_credit_code",
)
CONTACT_SLOTS = ("contact_name", "contact_mobile")
RECOMMENDATION_SLOTS = (
    "need_service_ids",
    "need_institution_ids",
    "need_institution_titles",
    "need_domain",
)
# Slots of one need; action_reset_need clears them all (demand_last_number is kept).
NEED_SLOTS = (
    "need_text",
    "need_product",
    "need_place",
    *DETAIL_SLOTS,
    *CONTACT_SLOTS,
    *RECOMMENDATION_SLOTS,
    "need_chosen_institution",
    "need_decision",
    "need_details_wanted",
    "need_pending",
    "need_submit_key",
)
# A new need of the same enterprise keeps place, company and contact; these start afresh unless
# the message that states the new need names them (its slot mappings have set them already).
_FRESH_UNLESS_NAMED = {
    "need_product": "product",
    "need_quantity": "quantity",
    "need_date": "date",
    "need_service_mode": "service_mode",
}
_PER_NEED_SLOTS = (
    *RECOMMENDATION_SLOTS,
    "need_chosen_institution",
    "need_decision",
    "need_details_wanted",
    "need_pending",
    "need_submit_key",
)


def start_need_events(tracker: Tracker) -> list[EventType]:
    events: list[EventType] = [SlotSet(name, None) for name in _PER_NEED_SLOTS]
    events += [
        SlotSet(slot, None)
        for slot, entity in _FRESH_UNLESS_NAMED.items()
        if not entity_values(tracker, entity)
    ]
    if tracker.get_slot("privacy_consent") is False:
        events.append(SlotSet("privacy_consent", None))  # a new need: ask once more
    events.append(SlotSet("pending_choice", None))
    return events


def reset_need_events() -> list[EventType]:
    return [SlotSet(name, None) for name in NEED_SLOTS]


def need_required_slots(slots: dict[str, Any]) -> list[str]:
    """The need form's slots for this turn, in the order they are asked."""
    required = ["need_product", "need_place"]
    wanted = bool(slots.get("need_details_wanted"))
    for name in DETAIL_SLOTS:
        if name == "need_credit_code" and wanted and not slots.get("need_company"):
            wanted_here = False  # no company, no code to ask for
        else:
            wanted_here = wanted
        if wanted_here or slots.get(name) is not None:
            required.append(name)
    consent = slots.get("privacy_consent")
    if consent is False:
        return required  # declined: recommendations only, nothing personal asked
    volunteered = any(slots.get(name) for name in CONTACT_SLOTS)
    if consent is not True and (volunteered or isinstance(consent, str)):
        required.append("privacy_consent")
    return [*required, *CONTACT_SLOTS, "need_decision"]


class ActionStartNeed(Action):
    def name(self) -> str:
        return "action_start_need"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        # a need started from the catalogue (咨询这项服务) comes with its service
        return start_need_events(tracker) + chosen_service_events(dispatcher, tracker)


class ActionResetNeed(Action):
    def name(self) -> str:
        return "action_reset_need"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        return reset_need_events()


class ActionRouteDetails(Action):
    """Details with no need in progress: a message that names a product or a service (a whole
    need written in one line, classified as inform) starts the need (need_detected: the rules
    then start the form); details without one get the question what is needed."""

    def name(self) -> str:
        return "action_route_details"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        text = own_words(latest_text(tracker))
        if not states_a_need(read_details(text), text):
            dispatcher.utter_message(response="utter_need_ask_what")
            return [SlotSet("need_detected", False)]
        return [
            *start_need_events(tracker),
            SlotSet("need_text", text),
            SlotSet("need_detected", True),
        ]
