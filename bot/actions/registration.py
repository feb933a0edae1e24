"""Registration (§7.1): guidance on the two kinds of user, their materials and the
3-working-day review; and registration in chat: start (or resume after a rejection), submit,
the name change of §7.1.1.6. The form's checks are in registration_form.py."""

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import desk_client
from bot.actions.common import buttons, digit_options, latest_text, numbered, own_words
from bot.actions.registration_docs import (
    ENTERPRISE,
    INDIVIDUAL,
    KEPT,
    KIND_DOCUMENTS,
    NAME_CHANGE_SLOTS,
    REGISTRATION_SLOTS,
    SLOT_OF_KIND,
    document_id_of,
    review_body,
)
from bot.actions.validators import compact, parse_choice

logger = logging.getLogger(__name__)

KINDS = (("enterprise", "企业用户"), ("personal", "普通用户（个人）"))
_ENTERPRISE = ("企业", "公司", "单位", "厂", "法人", "营业执照", "机构")
_PERSONAL = ("个人", "普通用户", "自己", "身份证", "私人")


def kind_of(text: str, *, choosing: bool) -> str | None:
    """enterprise | personal from the words (or the option number when a choice is open)."""
    said = compact(text)
    if choosing and (choice := parse_choice(said, len(KINDS))):
        return KINDS[choice - 1][0]
    personal = any(word in said for word in _PERSONAL)
    enterprise = any(word in said for word in _ENTERPRISE)
    if personal != enterprise:
        return "personal" if personal else "enterprise"
    return None


class ActionGuideRegistration(Action):
    def name(self) -> str:
        return "action_guide_registration"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        choosing = tracker.get_slot("pending_choice") == "registration"
        kind = kind_of(latest_text(tracker), choosing=choosing)
        in_form = bool(tracker.active_loop.get("name"))
        if kind == "enterprise":
            dispatcher.utter_message(response="utter_registration_enterprise")
        elif kind == "personal":
            dispatcher.utter_message(response="utter_registration_personal")
        if kind is not None:
            return [SlotSet("pending_choice", None)]
        options = digit_options([label for _, label in KINDS])
        dispatcher.utter_message(
            response="utter_registration_kinds",
            registration_options=numbered(options),
            buttons=[] if in_form else buttons(options),
        )
        return [SlotSet("pending_choice", None if in_form else "registration")]


# --- registration in chat (§7.1.1): start, submit, resubmit, name change -----------------------

CUSTOMERS_PATH = "/api/customers"
SUBMITTED = {
    ENTERPRISE: "utter_registration_submitted_enterprise",
    INDIVIDUAL: "utter_registration_submitted_individual",
}
ALREADY = {
    "pending": "utter_registration_already_pending",
    "approved": "utter_registration_already_approved",
}


async def _my_customer(conversation_id: str) -> dict[str, Any] | None:
    """The customer linked to this conversation, or None (the desk says 404)."""
    try:
        return await desk_client.get_json(f"{CUSTOMERS_PATH}/by-conversation/{conversation_id}")
    except desk_client.DeskClientError as exc:
        if exc.status == 404:
            return None
        raise


async def _latest_review(customer_id: Any, conversation_id: str, kind: str) -> dict[str, Any]:
    data = await desk_client.get_json(
        f"{CUSTOMERS_PATH}/{customer_id}/reviews", params={"conversation_id": conversation_id}
    )
    items = [r for r in data.get("items") or [] if r.get("kind") == kind]
    return dict(items[0]) if items else {}


def _entity_kind(tracker: Tracker) -> str | None:
    """The kind a button's payload carries (``/start_registration{"reg_kind": …}``)."""
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == "reg_kind" and entity.get("value") in (ENTERPRISE, INDIVIDUAL):
            return "personal" if entity["value"] == INDIVIDUAL else "enterprise"
    return None


def _known_customer_slots(customer: dict[str, Any]) -> list[EventType]:
    """A customer already on the desk: its details are not asked again."""
    return [
        SlotSet("reg_kind", customer.get("kind")),
        SlotSet("reg_name", customer.get("name")),
        SlotSet("reg_credit_code", "kept"),
        SlotSet("reg_contact_name", customer.get("contact_name") or customer.get("name")),
        SlotSet("reg_mobile", "kept"),
        SlotSet("reg_customer_id", str(customer["id"])),
    ]


class ActionStartRegistration(Action):
    """Opens the form, or says where the registration stands (under review, approved); after a
    rejection: the reason, and only the materials it named are asked again."""

    def name(self) -> str:
        return "action_start_registration"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events: list[EventType] = [SlotSet(name, None) for name in REGISTRATION_SLOTS]
        events.append(SlotSet("pending_choice", None))
        try:
            customer = await _my_customer(tracker.sender_id)
        except desk_client.DeskClientError as exc:
            logger.warning(
                "registration lookup failed conversation=%s code=%s", tracker.sender_id, exc.code
            )
            dispatcher.utter_message(response="utter_registration_save_failed")
            return [*events, SlotSet("reg_ready", None)]
        if customer is None:
            kind = _entity_kind(tracker) or kind_of(own_words(latest_text(tracker)), choosing=False)
            if kind is not None:
                events.append(SlotSet("reg_kind", INDIVIDUAL if kind == "personal" else ENTERPRISE))
            dispatcher.utter_message(response="utter_registration_start")
            return [*events, SlotSet("reg_ready", True)]
        state = customer.get("verification")
        if state in ("pending", "approved"):
            review = await _latest_review(customer["id"], tracker.sender_id, "registration")
            dispatcher.utter_message(
                response=ALREADY[str(state)],
                name=customer.get("name"),
                review_due=review.get("review_due") or "",
            )
            return [*events, SlotSet("reg_ready", None)]
        events += _known_customer_slots(customer)
        missing: list[str] = []
        if state == "rejected":
            review = await _latest_review(customer["id"], tracker.sender_id, "registration")
            missing = list(review.get("missing_documents") or [])
            dispatcher.utter_message(
                response="utter_registration_resubmit",
                reason=review.get("reason") or "资料不完善",
            )
        documents = KIND_DOCUMENTS.get(str(customer.get("kind")), ())
        if missing:  # what the rejection did not name stays as uploaded
            asked = {SLOT_OF_KIND[k] for k in missing if k in SLOT_OF_KIND}
            events += [SlotSet(slot, KEPT) for slot in documents if slot not in asked]
        return [*events, SlotSet("reg_ready", True)]


class ActionSubmitRegistration(Action):
    """After the form (and on 重新提交): the review on the desk, with its due date."""

    def name(self) -> str:
        return "action_submit_registration"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        slots = dict(tracker.slots)
        customer_id = slots.get("reg_customer_id")
        if not customer_id:
            return [SlotSet(name, None) for name in REGISTRATION_SLOTS]
        try:
            review = await desk_client.post_json(
                f"{CUSTOMERS_PATH}/{customer_id}/verification",
                review_body(slots),
                params={"conversation_id": tracker.sender_id},
            )
        except desk_client.DeskClientError as exc:
            logger.warning(
                "registration not submitted conversation=%s code=%s", tracker.sender_id, exc.code
            )
            if exc.code == "review_pending":
                dispatcher.utter_message(
                    response="utter_registration_already_pending", review_due="", name=""
                )
                return [SlotSet(name, None) for name in REGISTRATION_SLOTS]
            dispatcher.utter_message(response="utter_registration_submit_failed")
            return [SlotSet("reg_pending", True)]
        logger.info(
            "registration submitted review=%s conversation=%s", review.get("id"), tracker.sender_id
        )
        dispatcher.utter_message(
            response=SUBMITTED.get(str(slots.get("reg_kind")), SUBMITTED[ENTERPRISE]),
            review_due=review.get("review_due"),
        )
        return [SlotSet(name, None) for name in REGISTRATION_SLOTS]


class ActionResetRegistration(Action):
    def name(self) -> str:
        return "action_reset_registration"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        return [SlotSet(name, None) for name in (*REGISTRATION_SLOTS, *NAME_CHANGE_SLOTS)]


class ActionReceiveUpload(Action):
    """An upload when no material is asked: kept with the customer's files, said so."""

    def name(self) -> str:
        return "action_receive_upload"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_registration_upload_unasked")
        return []


class ActionStartNameChange(Action):
    """§7.1.1.6: only an approved enterprise of this conversation changes its name here."""

    def name(self) -> str:
        return "action_start_name_change"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events: list[EventType] = [SlotSet(name, None) for name in NAME_CHANGE_SLOTS]
        try:
            customer = await _my_customer(tracker.sender_id)
        except desk_client.DeskClientError:
            dispatcher.utter_message(response="utter_registration_save_failed")
            return [*events, SlotSet("reg_ready", None)]
        if customer is None or customer.get("kind") != ENTERPRISE:
            dispatcher.utter_message(response="utter_registration_name_change_unknown")
            return [*events, SlotSet("reg_ready", None)]
        if customer.get("verification") != "approved":
            dispatcher.utter_message(response="utter_registration_name_change_not_verified")
            return [*events, SlotSet("reg_ready", None)]
        dispatcher.utter_message(
            response="utter_registration_name_change_start", name=customer.get("name")
        )
        return [
            *events,
            SlotSet("reg_customer_id", str(customer["id"])),
            SlotSet("reg_ready", True),
        ]


class ActionSubmitNameChange(Action):
    def name(self) -> str:
        return "action_submit_name_change"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        slots = dict(tracker.slots)
        reset = [SlotSet(name, None) for name in (*NAME_CHANGE_SLOTS, "reg_customer_id")]
        licence = document_id_of(slots.get("reg_new_licence"))
        body = {
            "new_name": slots.get("reg_new_name"),
            "changed_on": slots.get("reg_changed_on"),
            # no licence (a late change): none, so that the old one is never taken for it
            "document_ids": [licence] if licence else [],
        }
        try:
            review = await desk_client.post_json(
                f"{CUSTOMERS_PATH}/{slots.get('reg_customer_id')}/name-changes",
                body,
                params={"conversation_id": tracker.sender_id},
            )
        except desk_client.DeskClientError as exc:
            logger.warning(
                "name change refused conversation=%s code=%s", tracker.sender_id, exc.code
            )
            if exc.status in (409, 422):
                dispatcher.utter_message(
                    response="utter_registration_name_change_refused", problem=exc.message
                )
            else:
                dispatcher.utter_message(response="utter_registration_submit_failed")
            return reset
        dispatcher.utter_message(
            response="utter_registration_name_change_submitted",
            new_name=slots.get("reg_new_name"),
            review_due=review.get("review_due"),
        )
        return reset
