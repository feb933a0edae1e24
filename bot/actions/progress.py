"""Progress (§5.1 d): the user's own open demands and complaints, each with its state and next
deadline; one can be picked (by its number in the list or its 编号) for the details."""

import logging
import re
from dataclasses import dataclass
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import desk_client
from bot.actions.common import buttons, digit_options, latest_text, numbered
from bot.actions.validators import parse_choice

logger = logging.getLogger(__name__)

NUMBER_RE = re.compile(r"(?:XQ|TS)\d{8}-\d{4}", re.IGNORECASE)
MAX_LISTED = 9
# state → (what happens next, the field with its deadline or None)
DEMAND_NEXT = {
    "submitted": ("平台响应您的需求", "respond_due"),
    "responded": ("平台推荐服务机构", "recommend_due"),
    "recommended": ("您与推荐机构对接", None),
    "matched": ("机构开始服务", None),
    "in_service": ("机构完成服务", None),
    "completed": ("请您评价服务（回复“评价”）", None),
}
COMPLAINT_NEXT = {
    "received": ("调查核实", "investigation_due"),
    "investigating": ("调查核实", "investigation_due"),
    "forwarded": ("机构处理并反馈", "investigation_due"),
    "resolved": ("向您反馈处理意见", None),
}


@dataclass(frozen=True)
class Item:
    kind: str  # demand | complaint
    number: str
    line: str


def _deadline(record: dict[str, Any], field: str | None, overdue: bool) -> str:
    if not field or not record.get(field):
        return ""
    return f"，期限 {record[field]}" + ("（已逾期，我们会督促处理）" if overdue else "")


def demand_item(d: dict[str, Any]) -> Item | None:
    if d.get("status") not in DEMAND_NEXT:
        return None  # evaluated or cancelled: nothing left to follow
    step, field = DEMAND_NEXT[d["status"]]
    overdue = bool(
        d.get("respond_overdue")
        if field == "respond_due"
        else d.get("recommend_overdue")
        if field == "recommend_due"
        else False
    )
    line = (
        f"需求 {d['number']}（{d.get('product', '')}）：{d.get('status_label', '')}；"
        f"下一步：{step}{_deadline(d, field, overdue)}"
    )
    return Item("demand", str(d["number"]), line)


def complaint_item(c: dict[str, Any]) -> Item | None:
    if c.get("status") not in COMPLAINT_NEXT:
        return None
    step, field = COMPLAINT_NEXT[c["status"]]
    line = (
        f"投诉 {c['number']}（{c.get('institution_name', '')}）：{c.get('status_label', '')}；"
        f"下一步：{step}{_deadline(c, field, bool(c.get('overdue')))}"
    )
    return Item("complaint", str(c["number"]), line)


def open_items(demands: list[dict[str, Any]], complaints: list[dict[str, Any]]) -> list[Item]:
    items = [demand_item(d) for d in demands] + [complaint_item(c) for c in complaints]
    return [i for i in items if i is not None][:MAX_LISTED]


def timeline(events: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"  - {str(e.get('at', ''))[:16].replace('T', ' ')} "
        f"{e.get('to_status_label') or e.get('to_status')}"
        + (f"：{e['note']}" if e.get("note") else "")
        for e in events
    )


def demand_detail(d: dict[str, Any], events: list[dict[str, Any]]) -> str:
    lines = [
        f"需求 {d['number']}",
        f"· 产品/对象：{d.get('product', '')}",
        f"· 所在区域：{d.get('place', '')}",
        f"· 当前状态：{d.get('status_label', '')}",
        f"· 响应期限：{d.get('respond_due', '')}",
        f"· 推荐期限：{d.get('recommend_due', '')}",
    ]
    if events:
        lines += ["· 办理经过：", timeline(events)]
    return "\n".join(lines)


def complaint_detail(c: dict[str, Any], events: list[dict[str, Any]]) -> str:
    lines = [
        f"投诉 {c['number']}",
        f"· 被投诉机构：{c.get('institution_name', '')}",
        f"· 投诉类型：{c.get('complaint_type_label', '')}",
        f"· 当前状态：{c.get('status_label', '')}",
        f"· 调查核实期限：{c.get('investigation_due', '')}",
    ]
    if c.get("resolution"):
        lines.append(f"· 处理意见：{c['resolution']}")
    if events:
        lines += ["· 办理经过：", timeline(events)]
    return "\n".join(lines)


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
            key = "utter_progress_not_found" if exc.status == 404 else "utter_progress_unavailable"
            dispatcher.utter_message(response=key)
            return self._done()
        if not items:
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

    @staticmethod
    def _done() -> list[EventType]:
        return [SlotSet("progress_items", None), SlotSet("pending_choice", None)]
