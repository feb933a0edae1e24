"""Complaints (§7.4.2): the institution (the desk links it to the knowledge base, fuzzy), the
type, the content and what the complainant asks for, a contact or anonymity (with a follow-up
code), a confirmed summary; then the 受理编号 and the 7-working-day commitment (§7.4.3)."""

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import desk_client
from bot.actions.common import (
    Option,
    buttons,
    channel_of,
    digit_options,
    entity_values,
    idempotency_key,
    latest_turn_key,
    numbered,
)
from bot.actions.consent import retrying_after_consent
from bot.actions.listening import notice_shown
from bot.actions.templates import phrase, phrases
from bot.actions.validators import compact, parse_choice
from knowledge.personal_data import mask_mobile

logger = logging.getLogger(__name__)

COMPLAINTS_PATH = "/api/complaints"
COMPLAINT_SLOTS = (
    "complaint_institution",
    "complaint_type",
    "complaint_content",
    "complaint_request",
    "complaint_contact_mobile",
    "complaint_contact_name",
    "complaint_consent",
    "complaint_decision",
    "complaint_pending",
    "complaint_submit_key",
)
FEATURE = "complaint"  # the phrases: bot/templates/complaint.yml
# desk code → words that give it away, in the order the types are offered (labels: the templates)
TYPE_WORDS = {
    "attitude": ("态度", "骂", "不耐烦", "脸色", "冷漠", "爱答不理", "推诿"),
    "efficiency": ("效率", "慢", "拖", "超时", "久", "没出", "延误"),
    "fees": ("收费", "费用", "乱收", "多收", "贵", "退费", "退款", "钱"),
    "quality": ("结果", "数据", "质量", "不准", "报告错", "写错", "出错"),
    "other": ("其他", "其它", "别的"),
}
TYPES = tuple(TYPE_WORDS)


def type_label(code: str) -> str:
    return phrases(FEATURE, "types").get(code) or phrases(FEATURE, "types")["other"]


MAX_CONTENT, MAX_REQUEST = 2000, 1000


def type_options() -> list[Option]:
    return digit_options([type_label(code) for code in TYPES])


def complaint_type_of(raw: str) -> str | None:
    choice = parse_choice(raw, len(TYPES))
    if choice:
        return TYPES[choice - 1]
    text = compact(raw)
    for code, words in TYPE_WORDS.items():
        if text == compact(type_label(code)) or any(word in text for word in words):
            return code
    return None


def known_contact(slots: dict[str, Any]) -> tuple[str, str] | None:
    """The need's contact, when the user agreed to the notice and left one."""
    if slots.get("privacy_consent") is True and slots.get("contact_mobile"):
        return str(slots.get("contact_name") or ""), str(slots["contact_mobile"])
    return None


def contact_options(known: tuple[str, str] | None) -> list[Option]:
    """Besides typing a name and mobile: the need's contact (when known), or anonymity."""
    options = [Option(phrase(FEATURE, "contact.anonymous"), str(2 if known else 1))]
    if known:
        name, mobile = known[0], mask_mobile(known[1])
        label = (
            phrase(FEATURE, "contact.reuse", name=name, mobile=mobile)
            if name
            else phrase(FEATURE, "contact.reuse_no_name", mobile=mobile)
        )
        options.insert(0, Option(label, "1"))
    return options


def complaint_required_slots(slots: dict[str, Any]) -> list[str]:
    required = [
        "complaint_institution",
        "complaint_type",
        "complaint_content",
        "complaint_request",
        "complaint_contact_mobile",
    ]
    if slots.get("complaint_contact_mobile"):  # not anonymous: whom to call
        if slots.get("privacy_consent") is not True:  # given before the notice was shown
            required.insert(required.index("complaint_contact_mobile"), "complaint_consent")
        required.append("complaint_contact_name")
    return [*required, "complaint_decision"]


def complaint_summary(slots: dict[str, Any]) -> str:
    mobile = slots.get("complaint_contact_mobile")
    contact = (
        phrase(
            FEATURE,
            "summary.with_mobile",
            name=slots.get("complaint_contact_name") or phrase(FEATURE, "summary.no_name"),
            mobile=mobile,
        )
        if mobile
        else phrase(FEATURE, "summary.anonymous")
    )
    values = {
        "institution": slots.get("complaint_institution") or "",
        "type": type_label(str(slots.get("complaint_type"))),
        "content": slots.get("complaint_content") or "",
        "request": slots.get("complaint_request") or phrase(FEATURE, "summary.no_request"),
        "contact": contact,
    }
    return "\n".join(
        phrase(FEATURE, f"summary.{key}", value=value) for key, value in values.items()
    )


def complaint_body(conversation_id: str, slots: dict[str, Any]) -> dict[str, Any]:
    return {
        "conversation_id": conversation_id,
        "channel": "online",  # §7.4.2 网上 (web chat and WeChat alike)
        "institution_name": slots.get("complaint_institution"),
        "complaint_type": slots.get("complaint_type") or "other",
        "content": slots.get("complaint_content"),
        "demand": slots.get("complaint_request") or "",
        "contact_name": slots.get("complaint_contact_name") or None,
        "contact_mobile": slots.get("complaint_contact_mobile") or None,
    }


def reset_complaint_events() -> list[EventType]:
    return [SlotSet(name, None) for name in COMPLAINT_SLOTS]


class ActionStartComplaint(Action):
    def name(self) -> str:
        return "action_start_complaint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events = [
            SlotSet(name, None)
            for name in COMPLAINT_SLOTS
            if not (name == "complaint_institution" and entity_values(tracker, "company"))
        ]
        return [*events, SlotSet("pending_choice", None)]


class ActionResetComplaint(Action):
    def name(self) -> str:
        return "action_reset_complaint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        return reset_complaint_events()


class ActionAskComplaintType(Action):
    def name(self) -> str:
        return "action_ask_complaint_type"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        options = type_options()
        dispatcher.utter_message(
            response="utter_ask_complaint_type",
            complaint_types=numbered(options),
            buttons=buttons(options),
        )
        return []


class ActionAskComplaintContactMobile(Action):
    """The contact question; the privacy notice until the user agreed; the need's contact on
    offer when there is one."""

    def name(self) -> str:
        return "action_ask_complaint_contact_mobile"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        options = contact_options(known_contact(dict(tracker.slots)))
        if tracker.get_slot("privacy_consent") is True:
            response = "utter_ask_complaint_contact"
        elif notice_shown(tracker, START):
            response = "utter_ask_complaint_contact_again"
        else:
            response = "utter_ask_complaint_contact_with_notice"
        dispatcher.utter_message(
            response=response, contact_options=numbered(options), buttons=buttons(options)
        )
        return []


START = "utter_complaint_start"  # the complaint's first action: a notice before it was another


class ActionAskComplaintDecision(Action):
    def name(self) -> str:
        return "action_ask_complaint_decision"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        options = [
            Option(phrase(FEATURE, "decision.submit"), "/affirm"),
            Option(phrase(FEATURE, "decision.cancel"), "/deny"),
        ]
        dispatcher.utter_message(
            response="utter_ask_complaint_decision",
            complaint_summary=complaint_summary(dict(tracker.slots)),
            complaint_options=numbered(options),
            buttons=buttons(options),
        )
        return []


class ActionCompleteComplaint(Action):
    """After the complaint form (and on 重新提交): open it on the desk, or drop it."""

    def name(self) -> str:
        return "action_complete_complaint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if tracker.get_slot("complaint_decision") != "submit":
            dispatcher.utter_message(response="utter_complaint_cancelled")
            return reset_complaint_events()
        key = tracker.get_slot("complaint_submit_key") or idempotency_key(
            tracker.sender_id, latest_turn_key(tracker)
        )
        body = complaint_body(tracker.sender_id, dict(tracker.slots))
        try:
            data = await retrying_after_consent(
                lambda: desk_client.post_json(COMPLAINTS_PATH, body, idempotency_key=key),
                conversation_id=tracker.sender_id,
                consented=tracker.get_slot("privacy_consent") is True,
            )
            number, due = str(data["number"]), str(data["investigation_due"])
        except (desk_client.DeskClientError, KeyError) as exc:
            logger.warning(
                "complaint not opened conversation=%s channel=%s: %r",
                tracker.sender_id,
                channel_of(tracker.sender_id),
                exc,
            )
            dispatcher.utter_message(response="utter_complaint_submit_failed")
            return [SlotSet("complaint_submit_key", key), SlotSet("complaint_pending", True)]
        logger.info(
            "complaint opened number=%s conversation=%s type=%s institution=%s",
            number,
            tracker.sender_id,
            body["complaint_type"],
            data.get("institution_id"),
        )
        dispatcher.utter_message(
            response="utter_complaint_received", complaint_number=number, investigation_due=due
        )
        if data.get("institution_title"):
            dispatcher.utter_message(
                response="utter_complaint_institution_linked", institution=data["institution_title"]
            )
        if data.get("follow_up_code"):
            dispatcher.utter_message(
                response="utter_complaint_follow_up_code",
                complaint_number=number,
                follow_up_code=data["follow_up_code"],
            )
        return [*reset_complaint_events(), SlotSet("complaint_last_number", number)]
