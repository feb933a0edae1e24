"""Validation of the registration form (§7.1.1) and the name-change form (§7.1.1.6).

Details first: the kind of user, the name, the credit code (GB 32100 check digit), the contact
and mobile (giving it after the privacy notice is consent). With the mobile the customer is
created on the desk and linked to this conversation, so that the channels can store the
uploads; then each material is asked, and every upload the channel announces
(``/upload_document{"document_id": …}``) is labelled on the desk with the material asked for.
"""

import logging
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import desk_client
from bot.actions.common import as_text, latest_intent, reject
from bot.actions.consent import record_consent, retrying_after_consent
from bot.actions.registration import kind_of
from bot.actions.registration_docs import (
    DOCUMENT_SLOTS,
    ENTERPRISE,
    INDIVIDUAL,
    NO_DOCUMENT,
    customer_body,
    document_id_of,
    qualification_reason,
    registration_required_slots,
)
from bot.actions.validators import clean_name, compact, is_refusal
from knowledge.personal_data import find_mobile, normalise_credit_code

logger = logging.getLogger(__name__)

CUSTOMERS_PATH = "/api/customers"
LABELS = {
    "business_licence": "营业执照",
    "qualification": "资质证书",
    "integrity_pledge": "诚信承诺书",
    "id_card": "身份证扫描件",
}
MAX_COMPANY = 100
SAVED = {
    ENTERPRISE: "utter_registration_saved_enterprise",
    INDIVIDUAL: "utter_registration_saved_individual",
}


def clean_company(raw: str) -> str | None:
    text = (raw or "").strip().strip("，。,.！!？?")
    for prefix in ("企业名称是", "公司名称是", "名称是", "我们是", "我们公司是", "公司叫", "叫"):
        text = text.removeprefix(prefix)
    if len(text) < 4 or len(text) > MAX_COMPANY or compact(text).isdigit():
        return None
    return text


async def label_upload(
    tracker: Tracker, dispatcher: CollectingDispatcher, slot: str, kind: str
) -> dict[str, Any]:
    """The announced upload becomes the material asked for (PATCH on the desk)."""
    document_id = document_id_of(_entity(tracker, "document_id"))
    customer_id = tracker.get_slot("reg_customer_id")
    if document_id is None or customer_id is None:
        dispatcher.utter_message(response="utter_registration_upload_how")
        return {slot: None}
    try:
        await desk_client.patch_json(
            f"{CUSTOMERS_PATH}/{customer_id}/documents/{document_id}",
            {"kind": kind},
            params={"conversation_id": tracker.sender_id},
        )
    except desk_client.DeskClientError as exc:
        logger.warning(
            "upload not labelled conversation=%s document=%s code=%s",
            tracker.sender_id,
            document_id,
            exc.code,
        )
        dispatcher.utter_message(response="utter_registration_upload_failed")
        return {slot: None}
    dispatcher.utter_message(response="utter_registration_upload_received", material=LABELS[kind])
    return {slot: str(document_id)}


def _entity(tracker: Tracker, name: str) -> Any:
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == name:
            return entity.get("value")
    return None


class ValidateRegistrationForm(FormValidationAction):
    def name(self) -> str:
        return "validate_registration_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        return registration_required_slots(dict(tracker.slots))

    async def validate_reg_kind(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if slot_value is None or slot_value in (ENTERPRISE, INDIVIDUAL):
            return {"reg_kind": slot_value}
        kind = kind_of(as_text(slot_value), choosing=True)
        if kind is None:
            return reject(dispatcher, tracker, "reg_kind", "utter_registration_kind_invalid")
        return {"reg_kind": ENTERPRISE if kind == "enterprise" else INDIVIDUAL}

    async def validate_reg_name(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if slot_value is None:
            return {"reg_name": None}
        if tracker.get_slot("reg_kind") == INDIVIDUAL:
            name = clean_name(as_text(slot_value))
            response = "utter_registration_person_invalid"
        else:
            name = clean_company(as_text(slot_value))
            response = "utter_registration_company_invalid"
        if name is None:
            return reject(dispatcher, tracker, "reg_name", response)
        return {"reg_name": name}

    async def validate_reg_credit_code(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if slot_value is None or slot_value == "kept":
            return {"reg_credit_code": slot_value}
        raw = compact(as_text(slot_value)).upper()
        raw = "".join(ch for ch in raw if ch.isascii() and ch.isalnum())
        try:
            code = normalise_credit_code(raw)
        except ValueError as exc:
            dispatcher.utter_message(
                response="utter_registration_credit_code_invalid", problem=str(exc)
            )
            return {"reg_credit_code": None}
        return {"reg_credit_code": code}

    async def validate_reg_contact_name(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if slot_value is None:
            return {"reg_contact_name": None}
        name = clean_name(as_text(slot_value))
        if name is None:
            return reject(dispatcher, tracker, "reg_contact_name", "utter_need_name_invalid")
        return {"reg_contact_name": name}

    async def validate_reg_mobile(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if slot_value is None or slot_value == "kept":
            return {"reg_mobile": slot_value}
        text = as_text(slot_value)
        mobile = find_mobile(text)
        if mobile is None:
            refused = is_refusal(text) or latest_intent(tracker) == "deny"
            response = (
                "utter_registration_mobile_required"
                if refused
                else "utter_registration_mobile_invalid"
            )
            dispatcher.utter_message(response=response)
            return {"reg_mobile": None}
        result: dict[str, Any] = {"reg_mobile": mobile}
        consented = tracker.get_slot("privacy_consent") is True
        if not consented:  # answering after the notice is consent
            consented = await record_consent(tracker.sender_id, agreed=True)
            result["privacy_consent"] = True
        if tracker.get_slot("reg_customer_id"):
            return result
        body = customer_body(tracker.sender_id, {**dict(tracker.slots), "reg_mobile": mobile})
        try:
            customer = await retrying_after_consent(
                lambda: desk_client.post_json(CUSTOMERS_PATH, body),
                conversation_id=tracker.sender_id,
                consented=consented,
            )
        except desk_client.DeskClientError as exc:
            logger.warning(
                "customer not registered conversation=%s code=%s", tracker.sender_id, exc.code
            )
            if exc.code == "credit_code_taken":
                dispatcher.utter_message(response="utter_registration_credit_code_taken")
                return {**result, "reg_credit_code": None}
            dispatcher.utter_message(response="utter_registration_save_failed")
            return {"reg_mobile": None}
        logger.info(
            "customer registered id=%s kind=%s conversation=%s",
            customer.get("id"),
            body["kind"],
            tracker.sender_id,
        )
        dispatcher.utter_message(response=SAVED[str(body["kind"])])
        return {**result, "reg_customer_id": str(customer["id"])}

    async def _document(
        self, slot: str, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        if slot_value is None or slot_value in ("kept", NO_DOCUMENT):
            return {slot: slot_value}
        kind = DOCUMENT_SLOTS[slot]
        if latest_intent(tracker) == "upload_document":
            return await label_upload(tracker, dispatcher, slot, kind)
        if kind == "qualification":
            reason = qualification_reason(as_text(slot_value))
            if reason is not None:
                dispatcher.utter_message(response="utter_registration_qualification_noted")
                return {slot: NO_DOCUMENT, "reg_qualification_note": reason}
            dispatcher.utter_message(response="utter_registration_qualification_reason")
            return {slot: None}
        dispatcher.utter_message(response="utter_registration_upload_how")
        return {slot: None}

    async def validate_reg_licence(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        return await self._document("reg_licence", slot_value, dispatcher, tracker)

    async def validate_reg_qualification(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        return await self._document("reg_qualification", slot_value, dispatcher, tracker)

    async def validate_reg_pledge(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        return await self._document("reg_pledge", slot_value, dispatcher, tracker)

    async def validate_reg_id_card(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        return await self._document("reg_id_card", slot_value, dispatcher, tracker)
