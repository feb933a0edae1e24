"""Progress (§5.1 d): the user's own open demands and complaints, each with its state and next
deadline; one can be picked (by its number in the list or its 编号) for the details.

The wording of the lines and details is in bot/templates/progress.yml."""

import logging
import re
from dataclasses import dataclass
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import desk_client
from bot.actions.common import buttons, digit_options, latest_text, numbered
from bot.actions.templates import phrase, phrases
from bot.actions.validators import parse_choice

logger = logging.getLogger(__name__)

NUMBER_RE = re.compile(r"(?:XQ|TS)\d{8}-\d{4}", re.IGNORECASE)
MAX_LISTED = 9
FEATURE = "progress"  # the phrases: bot/templates/progress.yml
# state → the field holding the deadline of the next step (None: no deadline); the step itself
# is worded in the templates (demand_next, complaint_next)
DEMAND_DEADLINE = {
    "submitted": "respond_due",
    "responded": "recommend_due",
    "recommended": None,
    "matched": None,
    "in_service": None,
    "completed": None,
}
COMPLAINT_DEADLINE = {
    "received": "investigation_due",
    "investigating": "investigation_due",
    "forwarded": "investigation_due",
    "resolved": None,
}


@dataclass(frozen=True)
class Item:
    kind: str  # demand | complaint
    number: str
    line: str


def _deadline(record: dict[str, Any], field: str | None, overdue: bool) -> str:
    if not field or not record.get(field):
        return ""
    text = phrase(FEATURE, "deadline", due=record[field])
    return text + (phrase(FEATURE, "overdue") if overdue else "")


def demand_item(d: dict[str, Any]) -> Item | None:
    if d.get("status") not in DEMAND_DEADLINE:
        return None  # evaluated or cancelled: nothing left to follow
    field = DEMAND_DEADLINE[d["status"]]
    overdue = bool(
        d.get("respond_overdue")
        if field == "respond_due"
        else d.get("recommend_overdue")
        if field == "recommend_due"
        else False
    )
    line = phrase(
        FEATURE,
        "demand_line",
        number=d["number"],
        product=d.get("product", ""),
        status=d.get("status_label", ""),
        step=phrases(FEATURE, "demand_next")[d["status"]],
        deadline=_deadline(d, field, overdue),
    )
    return Item("demand", str(d["number"]), line)


def complaint_item(c: dict[str, Any]) -> Item | None:
    if c.get("status") not in COMPLAINT_DEADLINE:
        return None
    field = COMPLAINT_DEADLINE[c["status"]]
    line = phrase(
        FEATURE,
        "complaint_line",
        number=c["number"],
        institution=c.get("institution_name", ""),
        status=c.get("status_label", ""),
        step=phrases(FEATURE, "complaint_next")[c["status"]],
        deadline=_deadline(c, field, bool(c.get("overdue"))),
    )
    return Item("complaint", str(c["number"]), line)


def open_items(demands: list[dict[str, Any]], complaints: list[dict[str, Any]]) -> list[Item]:
    items = [demand_item(d) for d in demands] + [complaint_item(c) for c in complaints]
    return [i for i in items if i is not None][:MAX_LISTED]


def timeline(events: list[dict[str, Any]]) -> str:
    return "\n".join(
        phrase(
            FEATURE,
            "history_step",
            at=str(e.get("at", ""))[:16].replace("T", " "),
            status=e.get("to_status_label") or e.get("to_status"),
        )
        + (phrase(FEATURE, "history_note", note=e["note"]) if e.get("note") else "")
        for e in events
    )


def _with_history(lines: list[str], events: list[dict[str, Any]]) -> str:
    if events:
        lines += [phrase(FEATURE, "history"), timeline(events)]
    return "\n".join(lines)


def demand_detail(d: dict[str, Any], events: list[dict[str, Any]]) -> str:
    head = phrase(
        FEATURE,
        "demand_detail",
        number=d["number"],
        product=d.get("product", ""),
        place=d.get("place", ""),
        status=d.get("status_label", ""),
        respond_due=d.get("respond_due", ""),
        recommend_due=d.get("recommend_due", ""),
    )
    return _with_history([head], events)


def complaint_detail(c: dict[str, Any], events: list[dict[str, Any]]) -> str:
    lines = [
        phrase(
            FEATURE,
            "complaint_detail",
            number=c["number"],
            institution=c.get("institution_name", ""),
            complaint_type=c.get("complaint_type_label", ""),
            status=c.get("status_label", ""),
            investigation_due=c.get("investigation_due", ""),
        )
    ]
    if c.get("resolution"):
        lines.append(phrase(FEATURE, "resolution", resolution=c["resolution"]))
    return _with_history(lines, events)


async def fetch_open_items(conversation_id: str) -> list[Item]:
    params = {"conversation_id": conversation_id}
    demands = await desk_client.get_json("/api/demands", params=params)
    complaints = await desk_client.get_json("/api/complaints", params=params)
    return open_items(list(demands.get("items") or []), list(complaints.get("items") or []))


async def fetch_detail(conversation_id: str, number: str) -> str:
    params = {"conversation_id": conversation_id}
    number = number.upper()
    base = "/api/demands" if number.startswith("XQ") else "/api/complaints"
    record = await desk_client.get_json(f"{base}/{number}", params=params)
    try:
        history = await desk_client.get_list(f"{base}/{number}/events", params=params)
    except desk_client.DeskClientError:  # the details go out without the timeline
        logger.warning("timeline unavailable number=%s", number)
        history = []
    if base == "/api/demands":
        return demand_detail(record, history)
    return complaint_detail(record, history)


class ActionShowProgress(Action):
    def name(self) -> str:
        return "action_show_progress"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        text = latest_text(tracker)
        conversation = tracker.sender_id
        in_form = bool(tracker.active_loop.get("name"))
        number = next(iter(NUMBER_RE.findall(text)), None)
        listed = list(tracker.get_slot("progress_items") or [])
        if number is None and tracker.get_slot("pending_choice") == "progress" and listed:
            picked = parse_choice(text, len(listed))
            number = listed[picked - 1] if picked else None
        try:
            if number:
                detail = await fetch_detail(conversation, number)
                dispatcher.utter_message(response="utter_progress_detail", detail=detail)
                return self._done()
            items = await fetch_open_items(conversation)
        except desk_client.DeskClientError as exc:
            logger.warning(
                "progress unavailable conversation=%s code=%s status=%s",
                conversation,
                exc.code,
                exc.status,
            )
            if exc.status == 404 and not in_form:  # not this conversation's: prove it is yours
                return self._look_up(dispatcher, text, "utter_progress_lookup_elsewhere")
            key = "utter_progress_not_found" if exc.status == 404 else "utter_progress_unavailable"
            dispatcher.utter_message(response=key)
            return self._done()
        if not items:
            if not in_form:
                return self._look_up(dispatcher, text, "utter_progress_lookup_intro")
            dispatcher.utter_message(response="utter_progress_none")
            return self._done()
        options = digit_options([item.line for item in items])
        dispatcher.utter_message(
            response="utter_progress_list",
            progress_items=numbered(options),
            buttons=[] if in_form else buttons(options),
        )
        if in_form:
            return self._done()
        return [
            SlotSet("progress_items", [item.number for item in items]),
            SlotSet("pending_choice", "progress"),
        ]

    def _look_up(
        self, dispatcher: CollectingDispatcher, text: str, response: str
    ) -> list[EventType]:
        """Nothing of this conversation: the number and the mobile (or code) find it."""
        from bot.actions.progress_lookup import FORM, prefilled

        dispatcher.utter_message(response=response)
        return [*self._done(), *prefilled(text), FollowupAction(FORM)]

    @staticmethod
    def _done() -> list[EventType]:
        return [SlotSet("progress_items", None), SlotSet("pending_choice", None)]
