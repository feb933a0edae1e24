"""Human help (§5.3 a): escalate to a 质量门诊 expert on request or after two failed
understandings in a row; the polite two-stage fallback before that.

The escalation goes to the desk with a short summary of the conversation so far, its QI domain,
the need and the enterprise (bot/actions/handoff_context.py); while it is waiting or claimed the
gateway routes the user's messages to people, so the bot stays quiet until the expert hands the
conversation back (bot/actions/handback.py).
"""

import logging
from datetime import datetime
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import desk_client
from bot.actions.common import channel_of, latest_intent
from bot.actions.handoff_context import enterprise_of, escalation_domain, need_facts
from bot.actions.unanswered import report_unanswered
from knowledge.personal_data import mask_text

logger = logging.getLogger(__name__)

ESCALATIONS_PATH = "/api/escalations"
SUMMARY_TURNS = 12
SUMMARY_MAX_CHARS = 4000
_WEEKDAYS = "一二三四五六日"
# What the expert should know at a glance, from the slots: (slot, label)
_FACTS = (
    ("need_product", "需求产品"),
    ("need_place", "所在区域"),
    ("need_company", "企业"),
    ("complaint_institution", "投诉机构"),
    ("demand_last_number", "最近的需求编号"),
    ("complaint_last_number", "最近的投诉编号"),
    ("handoff_expert_said", "专家上次的答复"),
)


def conversation_summary(events: list[dict[str, Any]], slots: dict[str, Any]) -> str:
    """The user's recent messages (personal numbers masked) and the facts collected so far."""
    said = [
        f"用户：{mask_text(str(e.get('text')))}"
        for e in events
        if e.get("event") == "user" and e.get("text") and not str(e["text"]).startswith("/")
    ][-SUMMARY_TURNS:]
    facts = [f"{label}：{mask_text(str(slots[name]))}" for name, label in _FACTS if slots.get(name)]
    parts = ["最近的对话：", *said]
    if facts:
        parts += ["已了解的信息：", *facts]
    return "\n".join(parts)[:SUMMARY_MAX_CHARS]


def consecutive_failures(events: list[dict[str, Any]]) -> int:
    """Failed understandings in a row, counting the latest message: user turns the NLU could not
    classify, each answered by the fallback."""
    turns: list[tuple[str, str | None]] = []  # (intent, first action after it)
    for event in events:
        if event.get("event") == "user":
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name") or ""
            turns.append((str(intent), None))
        elif event.get("event") == "action" and turns and turns[-1][1] is None:
            name = str(event.get("name") or "")
            if name != "action_listen":
                turns[-1] = (turns[-1][0], name)
    count = 0
    for index, (intent, answered_by) in enumerate(reversed(turns)):
        latest = index == 0
        if intent == "nlu_fallback" and (latest or answered_by == "action_handle_fallback"):
            count += 1
        else:
            break
    return count


def service_start_text(value: str | None) -> str:
    """ "6月16日（周一）9:00" from the desk's ISO time; empty when unknown."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return ""
    return f"{moment.month}月{moment.day}日（周{_WEEKDAYS[moment.weekday()]}）{moment:%H:%M}"


async def escalate(dispatcher: CollectingDispatcher, tracker: Tracker, *, reason: str) -> None:
    events, slots = list(tracker.events), dict(tracker.slots)
    body = {
        "conversation_id": tracker.sender_id,
        "reason": reason,
        "summary": conversation_summary(events, slots),
        "channel": channel_of(tracker.sender_id),
        "domain": await escalation_domain(events, slots),
        "need": need_facts(slots),
        "enterprise": enterprise_of(slots),
    }
    try:
        data = await desk_client.post_json(ESCALATIONS_PATH, body)
    except desk_client.DeskClientError as exc:
        logger.warning(
            "escalation not opened conversation=%s reason=%s code=%s status=%s",
            tracker.sender_id,
            reason,
            exc.code,
            exc.status,
        )
        dispatcher.utter_message(response="utter_handoff_failed")
        return
    logger.info(
        "escalation opened id=%s conversation=%s reason=%s domain=%s",
        data.get("id"),
        tracker.sender_id,
        reason,
        body["domain"],
    )
    if data.get("within_service_hours"):
        dispatcher.utter_message(response="utter_handoff_waiting")
    else:
        dispatcher.utter_message(
            response="utter_handoff_after_hours",
            next_service_start=service_start_text(data.get("next_service_start"))
            or "下一个工作日 9:00",
        )


class ActionEscalate(Action):
    """The user asked for a person."""

    def name(self) -> str:
        return "action_escalate"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        await escalate(dispatcher, tracker, reason="requested")
        return []


class ActionHandleFallback(Action):
    """Out of scope or not understood: say so politely and show what the assistant does; the
    second failed understanding in a row goes to a person, the second off-topic message in a
    row offers one."""

    def name(self) -> str:
        return "action_handle_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if latest_intent(tracker) == "out_of_scope":
            again = _previous_intent(tracker) == "out_of_scope"
            dispatcher.utter_message(
                response="utter_core_out_of_scope_again" if again else "utter_core_out_of_scope"
            )
            return []
        if consecutive_failures(list(tracker.events)) >= 2:
            dispatcher.utter_message(response="utter_handoff_fallback")
            await escalate(dispatcher, tracker, reason="fallback")
        else:
            dispatcher.utter_message(response="utter_core_fallback")
        await report_unanswered(tracker, kind="fallback")
        return []


def _previous_intent(tracker: Tracker) -> str | None:
    users = [e for e in tracker.events if e.get("event") == "user"]
    if len(users) < 2:
        return None
    return ((users[-2].get("parse_data") or {}).get("intent") or {}).get("name")
