"""The complainant's answer to a complaint's outcome (§7.4.3): asked "您对处理结果是否满意？" in
its own channel (the desk's notice), it says so with a button (WeChat: a numbered reply) or in
words. Satisfied: recorded on the complaint (its satisfaction, and a step on its timeline). Not
satisfied: the reason is asked and the complaint is reopened through the desk
(POST /api/complaints/{number}/reopen), which records it as not satisfied."""

import logging
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import desk_client
from bot.actions.common import as_text, latest_text
from bot.actions.progress import NUMBER_RE

logger = logging.getLogger(__name__)

FORM = "complaint_reopen_form"
RESULT_STATUSES = ("resolved", "informed")  # an outcome to be satisfied with (or not)
MAX_REASON = 500
MIN_REASON = 2


async def complaint_with_outcome(tracker: Tracker) -> str | None:
    """The complaint the answer is about: the one the notice named (its payload), else the
    newest of this conversation's complaints that has an outcome."""
    named = [n.upper() for n in NUMBER_RE.findall(latest_text(tracker)) if n.upper()[:2] == "TS"]
    if named:
        return named[0]
    data = await desk_client.get_json(
        "/api/complaints", params={"conversation_id": tracker.sender_id}
    )
    items = [c for c in data.get("items") or [] if c.get("status") in RESULT_STATUSES]
    return str(items[0]["number"]) if items else None


class ActionComplaintSatisfied(Action):
    def name(self) -> str:
        return "action_complaint_satisfied"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        try:
            number = await complaint_with_outcome(tracker)
            if number is None:
                dispatcher.utter_message(response="utter_complaint_result_none")
                return []
            await desk_client.post_json(
                f"/api/complaints/{number}/satisfaction", {"conversation_id": tracker.sender_id}
            )
        except desk_client.DeskClientError as exc:
            logger.warning(
                "satisfaction not recorded conversation=%s code=%s status=%s",
                tracker.sender_id,
                exc.code,
                exc.status,
            )
            response = {
                404: "utter_complaint_result_none",
                409: "utter_complaint_result_not_yet",
            }.get(exc.status or 0, "utter_complaint_result_failed")
            dispatcher.utter_message(response=response)
            return []
        logger.info("complainant satisfied conversation=%s number=%s", tracker.sender_id, number)
        dispatcher.utter_message(response="utter_complaint_result_thanks", number=number)
        return []


class ActionStartComplaintReopen(Action):
    def name(self) -> str:
        return "action_start_complaint_reopen"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        try:
            number = await complaint_with_outcome(tracker)
        except desk_client.DeskClientError as exc:
            logger.warning(
                "complaints unavailable conversation=%s code=%s", tracker.sender_id, exc.code
            )
            dispatcher.utter_message(response="utter_complaint_result_failed")
            return []
        if number is None:
            dispatcher.utter_message(response="utter_complaint_result_none")
            return []
        return [
            SlotSet("complaint_reopen_number", number),
            SlotSet("complaint_reopen_reason", None),
            FollowupAction(FORM),
        ]


class ValidateComplaintReopenForm(FormValidationAction):
    def name(self) -> str:
        return f"validate_{FORM}"

    async def validate_complaint_reopen_reason(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        text = as_text(slot_value).strip()
        if slot_value is None:
            return {"complaint_reopen_reason": None}
        if len(text) < MIN_REASON or text.startswith("/"):
            dispatcher.utter_message(response="utter_complaint_reopen_reason_invalid")
            return {"complaint_reopen_reason": None}
        return {"complaint_reopen_reason": text[:MAX_REASON]}


class ActionSubmitComplaintReopen(Action):
    def name(self) -> str:
        return "action_submit_complaint_reopen"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        number = tracker.get_slot("complaint_reopen_number")
        reason = tracker.get_slot("complaint_reopen_reason")
        done: list[EventType] = [
            SlotSet("complaint_reopen_number", None),
            SlotSet("complaint_reopen_reason", None),
        ]
        if not number or not reason:
            return done
        try:
            complaint = await desk_client.post_json(
                f"/api/complaints/{number}/reopen",
                {"reason": reason, "conversation_id": tracker.sender_id},
            )
        except desk_client.DeskClientError as exc:
            logger.warning(
                "complaint not reopened conversation=%s number=%s code=%s status=%s",
                tracker.sender_id,
                number,
                exc.code,
                exc.status,
            )
            response = (
                "utter_complaint_reopen_not_allowed"
                if exc.status == 409
                else "utter_complaint_result_failed"
            )
            dispatcher.utter_message(response=response)
            return done
        logger.info("complaint reopened conversation=%s number=%s", tracker.sender_id, number)
        dispatcher.utter_message(
            response="utter_complaint_reopened",
            number=number,
            due=complaint.get("investigation_due", ""),
        )
        return done
