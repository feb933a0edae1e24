"""Open the demand on the desk once the user agrees, and tell them the service commitment."""

import hashlib
import logging
from dataclasses import asdict, dataclass, field
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import desk
from bot.actions.need import reset_need_events
from bot.actions.validators import mask_mobile

logger = logging.getLogger(__name__)

DEMANDS_PATH = "/api/demands"


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
    service_ids: list[str] = field(default_factory=list)
    institution_ids: list[str] = field(default_factory=list)
    recommended_by: str = "bot"

    def payload(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class OpenedDemand:
    number: str
    respond_due: str
    recommend_due: str


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
    return DemandDraft(
        conversation_id=conversation_id,
        channel=channel_of(conversation_id),
        need_text=slots.get("need_text") or str(product),
        product=str(product),
        place=str(place),
        contact_name=str(name),
        contact_mobile=str(mobile),
        service_ids=list(slots.get("need_service_ids") or []),
        institution_ids=list(slots.get("need_institution_ids") or []),
    )


async def submit_demand(draft: DemandDraft, *, key: str) -> OpenedDemand:
    """POST the demand; the desk's number and due dates, or desk.DeskError."""
    data = await desk.post_json(DEMANDS_PATH, draft.payload(), idempotency_key=key)
    try:
        return OpenedDemand(
            number=str(data["number"]),
            respond_due=str(data["respond_due"]),
            recommend_due=str(data["recommend_due"]),
        )
    except KeyError as exc:
        raise desk.DeskError("bad_response", f"demand answer lacks {exc}") from exc


class ActionOpenDemand(Action):
    def name(self) -> str:
        return "action_open_demand"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        draft = draft_from_slots(tracker.sender_id, tracker.slots)
        if draft is None:
            dispatcher.utter_message(response="utter_need_nothing_pending")
            return [SlotSet("need_pending", None)]
        # A retry of the same need reuses the first attempt's key, so it never opens two.
        key = tracker.get_slot("need_submit_key") or idempotency_key(
            tracker.sender_id, latest_message_id(tracker)
        )
        try:
            opened = await submit_demand(draft, key=key)
        except desk.DeskError as exc:
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
        return [*reset_need_events(), SlotSet("demand_last_number", opened.number)]
