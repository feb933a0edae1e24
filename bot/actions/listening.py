"""The forms listen: every message is read for every detail it carries (bot.actions.details),
whichever question is open; a question asked in passing is answered and the form goes on; a
notice already shown is not repeated word for word.

The forms' validation actions call :func:`heard_slots` before validating, so that the typed
values of the latest message become slot candidates beside what the slot mappings found.
"""

import asyncio
import logging
import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.common import latest_text
from bot.actions.details import Details, is_vague, kind_of, read_details
from bot.actions.faq import plan_faq, search_faq
from bot.actions.templates import phrase

logger = logging.getLogger(__name__)

NEED_SLOT_OF = {
    "product": "need_product",
    "place": "need_place",
    "quantity": "need_quantity",
    "date": "need_date",
    "service_mode": "need_service_mode",
    "company": "need_company",
    "credit_code": "need_credit_code",
    "person": "contact_name",
    "mobile": "contact_mobile",
}
COMPLAINT_SLOT_OF = {"person": "complaint_contact_name", "mobile": "complaint_contact_mobile"}
# The kinds of short answer each free-text slot accepts (None: not a typed value at all).
_ACCEPTS: dict[str, set[str | None]] = {
    "need_product": {None, "product"},
    "need_place": {None, "place"},
    "need_quantity": {None, "quantity"},
    "need_date": {None, "date"},
    "need_company": {None},
    "contact_name": {None},
    "complaint_contact_name": {None},
    "complaint_institution": {None},
    "complaint_request": {None, "date", "quantity", "product", "place", "service_mode"},
}


def wrong_kind(slot: str, text: str) -> bool:
    """The answer is plainly another kind of value (「下周」 for a name, 「50台」 for a place)."""
    accepted = _ACCEPTS.get(slot)
    return accepted is not None and kind_of(text) not in accepted


def heard_slots(tracker: Tracker, slot_of: dict[str, str]) -> dict[str, Any]:
    """Slot candidates for what the latest message says beyond the slot mappings.

    An empty slot (None, or "" after 跳过) gets the typed value of its kind, and so does a vague
    one (「一批」 → 「20块」); a slot that already has a value keeps it (corrections come as
    correct_info). The open question's own free-text
    candidate is replaced by the typed value inside it when the message carried several
    details (「周庄镇，50台」 → place 周庄镇, quantity 50台) or when a name was asked.
    """
    text = latest_text(tracker)
    details = read_details(text).found()
    question = details.pop("question", None)
    candidates = tracker.slots_to_validate()
    requested = tracker.get_slot("requested_slot")
    heard: dict[str, Any] = {}
    for kind, slot in slot_of.items():
        value = details.get(kind)
        if not value:
            continue
        if slot == requested:
            several = len(details) > 1 or question
            if slot in candidates and (several or kind == "person") and candidates[slot] != value:
                heard[slot] = value
            continue
        if slot in candidates:
            continue  # an entity mapping took it already
        current = tracker.get_slot(slot)
        if current in (None, "") or (is_vague(kind, current) and not is_vague(kind, value)):
            heard[slot] = value
    asked_back = question and requested in candidates and requested not in heard
    if asked_back and candidates[requested] == text:  # the question is not the answer
        heard[requested] = None
    return heard


def value_before(tracker: Tracker, slot: str) -> Any:
    """The slot's value before the latest user message (its last SlotSet before it)."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            seen_user = True
        elif seen_user and event.get("event") == "slot" and event.get("name") == slot:
            return event.get("value")
    return None


def new_details(tracker: Tracker, heard: dict[str, Any], slot_of: dict[str, str]) -> dict[str, Any]:
    """What this message added: ``heard`` and the slots the mappings set from its entities
    that had no value before, or a vague one (「一批」 → 「20块」); a value changed otherwise is
    a correction, not something new."""
    kinds = {slot: kind for kind, slot in slot_of.items()}
    mapped = {}
    for name, value in tracker.slots_to_validate().items():
        before = value_before(tracker, name)
        if name in heard or not (before in (None, "") or is_vague(kinds.get(name, ""), before)):
            continue
        mapped[name] = value
    return {**mapped, **heard}


def kept_beside(events: list[Any], heard: dict[str, Any], requested: Any) -> dict[str, Any]:
    """The details of the message (``heard``: by the mappings or by :func:`heard_slots`) the
    validators accepted, besides the open question's own slot."""
    return {
        e["name"]: e["value"]
        for e in events
        if e.get("name") in heard and e["value"] and e["name"] != requested
    }


def say_first(dispatcher: CollectingDispatcher, **message: Any) -> None:
    """A message before those the validators sent (the acknowledgment, then any question)."""
    first = CollectingDispatcher()
    first.utter_message(**message)
    dispatcher.messages[:0] = first.messages


def noted_text(feature: str, slots: dict[str, Any]) -> str:
    """「数量 20块、时间要求 下周」: what was kept beside the open question."""
    return "、".join(f"{phrase(feature, f'noted.{name}')} {value}" for name, value in slots.items())


def shown_before(tracker: Tracker, marker: str, *, since_action: str | None = None) -> bool:
    """A bot message containing `marker` was sent already (after `since_action` when given)."""
    for event in reversed(tracker.events):
        if since_action and event.get("event") == "action" and event.get("name") == since_action:
            return False
        if event.get("event") == "bot" and marker in str(event.get("text") or ""):
            return True
    return False


NOTICE_MARK = "【隐私提示】"  # the first words of every privacy notice (domain responses)


def notice_shown(tracker: Tracker, since_action: str) -> bool:
    """The privacy notice was shown since the form's first action (utter_need_start …)."""
    return shown_before(tracker, NOTICE_MARK, since_action=since_action)


# --- a question in passing ----------------------------------------------------------------------

# A service's field (knowledge.schema.Service) → the words that ask for it, and its answer.
_SERVICE_FIELDS = (
    (
        "materials",
        re.compile(r"材料|资料|准备|带什么|要带|提交什么"),
        "utter_need_passing_materials",
    ),
    (
        "process",
        re.compile(r"流程|步骤|怎么办|如何办|怎么弄|怎么做|手续"),
        "utter_need_passing_process",
    ),
    ("conditions", re.compile(r"条件|要求|资格"), "utter_need_passing_conditions"),
    ("commitment", re.compile(r"多久|多长时间|几天|时限|承诺"), "utter_need_passing_commitment"),
)


def _best_service_sync(text: str) -> Any:
    from retrieval.search import get_searcher  # loads the index on first call

    hits = get_searcher().search(text, kind="service", k=1)
    return hits[0].entry if hits else None


async def _best_service(text: str) -> Any:
    try:
        return await asyncio.to_thread(_best_service_sync, text)
    except Exception:
        logger.exception("service search failed")
        return None


def _lines(items: list[str]) -> str:
    return "\n".join(f"{n}. {item}" for n, item in enumerate(items, 1))


async def answer_in_passing(dispatcher: CollectingDispatcher, question: str, need: str) -> None:
    """Answer a question asked beside the need: from the matching service's own fields
    (materials, process, conditions, commitment) when it asks about them, else from the FAQs,
    else say honestly that staff will answer it with the demand."""
    asked = next((f for f in _SERVICE_FIELDS if f[1].search(question)), None)
    if asked and need.strip():
        field, _, response = asked
        service = await _best_service(need)
        if service is not None and getattr(service, field, None):
            value = getattr(service, field)
            dispatcher.utter_message(
                response=response,
                service=service.title,
                answer=_lines(value) if isinstance(value, list) else str(value),
            )
            return
    plan = plan_faq(await search_faq(question), in_form=True)
    if plan.kind == "answer":
        hit = plan.hits[0]
        dispatcher.utter_message(
            response="utter_faq_answer", faq_question=hit.question, faq_answer=hit.answer
        )
        return
    dispatcher.utter_message(response="utter_need_passing_unknown", question=question)


def question_of(tracker: Tracker) -> str | None:
    return read_details(latest_text(tracker)).question


def details_of(tracker: Tracker) -> Details:
    return read_details(latest_text(tracker))


def fuller(slot: str, value: str, tracker: Tracker) -> str:
    """The latest message's own typed value for ``slot`` when it holds ``value`` and more: an
    entity cut short (「50」 of 「50根」, 「下周」 of 「下周三前」) gives way to what was typed."""
    kind = next((k for k, s in NEED_SLOT_OF.items() if s == slot), None)
    typed = getattr(read_details(latest_text(tracker)), kind, None) if kind else None
    if typed and value in typed and len(typed) > len(value):
        return str(typed)
    return value
