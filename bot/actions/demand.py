"""Conclude the need form: open the demand on the desk (after the user confirmed the summary),
drop it, or, when the user declined the privacy notice, leave it at the recommendations."""

import logging
from dataclasses import asdict, dataclass, field
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import desk_client
from bot.actions.common import channel_of, idempotency_key, latest_turn_key, own_words
from bot.actions.consent import retrying_after_consent
from bot.actions.need import reset_need_events
from bot.actions.need_summary import recommendation_events
from knowledge.personal_data import mask_mobile

logger = logging.getLogger(__name__)

DEMANDS_PATH = "/api/demands"
MAX_NEED_TEXT = 2000

__all__ = ["channel_of", "idempotency_key"]  # re-exported for the tests of the skeleton


@dataclass(frozen=True)
class DemandDraft:
    """The body of POST /api/demands."""

    conversation_id: str
    channel: str
    need_text: str
    product: str
    place: str
    contact_name: str
    contact_mobile: str
    quantity: str | None = None
    wanted_date: str | None = None
    service_mode: str | None = None
    company_name: str | None = None
    credit_code: str | None = None
    service_ids: list[str] = field(default_factory=list)
    institution_ids: list[str] = field(default_factory=list)
    chosen_institution_id: str | None = None
    recommended_by: str = "bot"

    def payload(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class OpenedDemand:
    number: str
    respond_due: str
    recommend_due: str


def compose_need_text(slots: dict[str, Any]) -> str:
    """The user's own words (never a menu payload); the product when they gave none."""
    text = own_words(slots.get("need_text")) or str(slots.get("need_product") or "")
    return text[:MAX_NEED_TEXT]


def _detail(slots: dict[str, Any], name: str) -> str | None:
    """A detail the user gave; None when skipped ("" marks a skipped question)."""
    return str(slots.get(name) or "").strip() or None


def draft_from_slots(conversation_id: str, slots: dict[str, Any]) -> DemandDraft | None:
    """The demand for the collected need, or None when a required part is missing."""
    product = slots.get("need_product")
    place, name, mobile = (
        slots.get("need_place"),
        slots.get("contact_name"),
        slots.get("contact_mobile"),
    )
    if not (product and place and name and mobile):
        return None
    institution_ids = list(slots.get("need_institution_ids") or [])
    chosen = slots.get("need_chosen_institution")
    if chosen:  # the enterprise's choice first
        institution_ids = [chosen, *[i for i in institution_ids if i != chosen]]
    return DemandDraft(
        conversation_id=conversation_id,
        channel=channel_of(conversation_id),
        need_text=compose_need_text(slots),
        product=str(product),
        place=str(place),
        contact_name=str(name),
        contact_mobile=str(mobile),
        quantity=_detail(slots, "need_quantity"),
        wanted_date=_detail(slots, "need_date"),
        service_mode=_detail(slots, "need_service_mode"),  # the validator keeps only 送样/上门/…
        company_name=_detail(slots, "need_company"),
        credit_code=_detail(slots, "need_credit_code"),
        service_ids=list(slots.get("need_service_ids") or []),
        institution_ids=institution_ids,
        chosen_institution_id=chosen or None,
    )


async def submit_demand(draft: DemandDraft, *, key: str) -> OpenedDemand:
    """POST the demand; the desk's number and due dates, or desk_client.DeskClientError."""
    data = await desk_client.post_json(DEMANDS_PATH, draft.payload(), idempotency_key=key)
    try:
        return OpenedDemand(
            number=str(data["number"]),
            respond_due=str(data["respond_due"]),
            recommend_due=str(data["recommend_due"]),
        )
    except KeyError as exc:
        raise desk_client.DeskClientError("bad_response", f"demand answer lacks {exc}") from exc


async def open_demand_events(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """Open the demand for the slots; on failure keep everything for a retry (need_pending)."""
    draft = draft_from_slots(tracker.sender_id, tracker.slots)
    if draft is None:
        dispatcher.utter_message(response="utter_need_nothing_pending")
        return [SlotSet("need_pending", None)]
    # A retry of the same need reuses the first attempt's key, so it never opens two.
    key = tracker.get_slot("need_submit_key") or idempotency_key(
        tracker.sender_id, latest_turn_key(tracker)
    )
    try:
        opened = await retrying_after_consent(
            lambda: submit_demand(draft, key=key),
            conversation_id=tracker.sender_id,
            consented=tracker.get_slot("privacy_consent") is True,
        )
    except desk_client.DeskClientError as exc:
        logger.warning(
            "demand not opened conversation=%s code=%s status=%s mobile=%s: %s",
            tracker.sender_id,
            exc.code,
            exc.status,
            mask_mobile(draft.contact_mobile),
            exc.message,
        )
        dispatcher.utter_message(response="utter_need_submit_failed")
        return [SlotSet("need_submit_key", key), SlotSet("need_pending", True)]
    logger.info(
        "demand opened number=%s conversation=%s channel=%s mobile=%s services=%s",
        opened.number,
        tracker.sender_id,
        draft.channel,
        mask_mobile(draft.contact_mobile),
        draft.service_ids,
    )
    dispatcher.utter_message(
        response="utter_need_submitted",
        demand_number=opened.number,
        respond_due=opened.respond_due,
        recommend_due=opened.recommend_due,
    )
    if chosen := tracker.get_slot("need_chosen_institution"):
        titles = dict(
            zip(
                tracker.get_slot("need_institution_ids") or [],
                tracker.get_slot("need_institution_titles") or [],
                strict=False,
            )
        )
        dispatcher.utter_message(
            response="utter_need_choice_noted", institution=titles.get(chosen, chosen)
        )
    return [*reset_need_events(), SlotSet("demand_last_number", opened.number)]


class ActionOpenDemand(Action):
    """The retry after a failed submit (need_pending): 好的 / 重新提交."""

    def name(self) -> str:
        return "action_open_demand"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        return await open_demand_events(dispatcher, tracker)


class ActionCompleteNeed(Action):
    """After the need form: submit, cancel, or (privacy notice declined) recommendations only."""

    def name(self) -> str:
        return "action_complete_need"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        decision = tracker.get_slot("need_decision")
        if tracker.get_slot("privacy_consent") is False:
            events: list[EventType] = []
            if tracker.get_slot("need_service_ids") is None:
                events = await recommendation_events(dispatcher, dict(tracker.slots))
            dispatcher.utter_message(response="utter_need_browse_only")
            return [*events, *reset_need_events()]
        if decision == "submit":
            return await open_demand_events(dispatcher, tracker)
        dispatcher.utter_message(response="utter_need_cancelled")
        return reset_need_events()
