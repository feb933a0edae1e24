"""Answer procedural questions from the knowledge base, never with a wrong confident answer.

A clear best match (high score, and clearly ahead of the next one) is answered; a plausible
one gets up to three 「您是想问…」 choices; anything else gets an honest "not found" with the way
to a person. Inside a form there are no choices (the form's question follows), only an answer
or "not found". Before the FAQs, the structured knowledge answers what it holds
(``self_service``: a standard's validity, what the platform offers, a service's manual); an
answer resting on a standard of the standards table cites it with its status; each FAQ answer
is reported to the desk for 猜你想问 (``welcome``).
"""

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import self_service, standards, welcome
from bot.actions.common import (
    Option,
    buttons,
    china_today,
    digit_options,
    entity_values,
    latest_intent,
    latest_text,
    numbered,
    own_words,
)
from bot.actions.unanswered import report_unanswered
from bot.actions.validators import parse_choice

logger = logging.getLogger(__name__)

# Fused scores of retrieval (e5 cosine + BM25 bonus); chit-chat sits around 0.84–0.87.
ANSWER_MIN = 0.93  # answer directly from here …
ANSWER_MARGIN = 0.02  # … when the next best is this far behind,
SURE = 0.96  # or from here whatever the next one scores
SUGGEST_MIN = 0.88  # below this nothing is offered
SUGGEST_SPREAD = 0.06  # offer only those close to the best
MAX_CHOICES = 3
NONE_OF_THESE = "都不是"


@dataclass(frozen=True)
class FaqHit:
    id: str
    question: str
    answer: str
    score: float


@dataclass(frozen=True)
class FaqPlan:
    kind: str  # answer | choose | unknown
    hits: list[FaqHit] = field(default_factory=list)


def plan_faq(hits: list[FaqHit], *, in_form: bool = False) -> FaqPlan:
    """What to do with the search results (best first)."""
    if not hits or hits[0].score < SUGGEST_MIN:
        return FaqPlan("unknown")
    best = hits[0]
    runner_up = hits[1].score if len(hits) > 1 else 0.0
    if best.score >= SURE or (best.score >= ANSWER_MIN and best.score - runner_up >= ANSWER_MARGIN):
        return FaqPlan("answer", [best])
    if in_form:
        return FaqPlan("unknown")
    close = [
        h
        for h in hits[:MAX_CHOICES]
        if h.score >= SUGGEST_MIN and best.score - h.score <= SUGGEST_SPREAD
    ]
    return FaqPlan("choose", close)


def _search_sync(text: str) -> list[FaqHit]:
    from retrieval.search import get_searcher  # loads the index on first call

    return [
        FaqHit(id=h.id, question=h.title, answer=h.entry.answer, score=h.score)
        for h in get_searcher().search(text, kind="faq", k=MAX_CHOICES)
    ]


async def search_faq(text: str) -> list[FaqHit]:
    """The best FAQ entries for `text`; empty when the search is unavailable."""
    if not text.strip():
        return []
    try:
        return await asyncio.to_thread(_search_sync, text)
    except Exception:  # not sure is the honest answer when the search fails
        logger.exception("FAQ search failed")
        return []


def faq_by_id(faq_id: str) -> FaqHit | None:
    try:
        from retrieval.live import live_knowledge

        entry: Any = live_knowledge().get(faq_id)
    except Exception:
        logger.exception("knowledge base unreadable")
        return None
    if entry is None or not hasattr(entry, "answer"):
        return None
    return FaqHit(id=entry.id, question=entry.title, answer=entry.answer, score=1.0)


def choice_options(questions: list[str]) -> list[Option]:
    return digit_options([*questions, f"{NONE_OF_THESE}，换个说法或转人工"])


class ActionAnswerFaq(Action):
    def name(self) -> str:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        text = latest_text(tracker)
        choices = list(tracker.get_slot("faq_choices") or [])
        if tracker.get_slot("pending_choice") == "faq" and choices:
            picked = parse_choice(text, len(choices) + 1)
            if picked is not None or latest_intent(tracker) == "deny":
                return await self._answer_choice(dispatcher, tracker, choices, picked)
        asked = entity_values(tracker, welcome.FAQ_ID_ENTITY)
        if asked and (hit := faq_by_id(asked[0])) is not None:  # a 猜你想问 quick reply
            await self._say(dispatcher, tracker, hit)
            return self._done()
        words = own_words(text)
        if not words:  # the 问流程 quick reply: ask what the question is
            dispatcher.utter_message(response="utter_faq_ask_what")
            return self._done()
        structured = self_service.answer_structured(dispatcher, words)
        if structured:
            logger.info("faq conversation=%s answered=%s", tracker.sender_id, structured)
            return self._done()
        in_form = bool(tracker.active_loop.get("name"))
        plan = plan_faq(await search_faq(words), in_form=in_form)
        # a manual question (材料/办理/条件) is answered from the service unless a FAQ is sure
        sure = plan.hits[0].score if plan.kind == "answer" and plan.hits[0].score >= SURE else None
        manual = await self_service.answer_manual(
            dispatcher, words, faq_answer_score=sure, in_form=in_form
        )
        logger.info(
            "faq conversation=%s plan=%s ids=%s manual=%s",
            tracker.sender_id,
            plan.kind,
            [h.id for h in plan.hits],
            manual,
        )
        if manual:
            return self._done()
        if plan.kind == "answer":
            await self._say(dispatcher, tracker, plan.hits[0])
            return self._done()
        if plan.kind == "choose":
            options = choice_options([h.question for h in plan.hits])
            dispatcher.utter_message(
                response="utter_faq_choices",
                faq_options=numbered(options),
                buttons=buttons(options),
            )
            return [
                SlotSet("faq_choices", [h.id for h in plan.hits]),
                SlotSet("pending_choice", "faq"),
            ]
        dispatcher.utter_message(response="utter_faq_unknown")
        await report_unanswered(tracker, kind="faq_miss")
        return self._done()

    async def _answer_choice(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        choices: list[str],
        picked: int | None,
    ) -> list[EventType]:
        hit = faq_by_id(choices[picked - 1]) if picked and picked <= len(choices) else None
        if hit is None:
            dispatcher.utter_message(response="utter_faq_none_of_these")
        else:
            await self._say(dispatcher, tracker, hit)
        return self._done()

    @staticmethod
    async def _say(dispatcher: CollectingDispatcher, tracker: Tracker, hit: FaqHit) -> None:
        knowledge = self_service.knowledge_now()
        cited = standards.entry_citation(hit.id, knowledge, china_today()) if knowledge else ""
        dispatcher.utter_message(
            response="utter_faq_answer",
            faq_question=hit.question,
            faq_answer=hit.answer,
            faq_citation=f"\n{cited}" if cited else "",
        )
        await welcome.report_answered(tracker, hit.id)

    @staticmethod
    def _done() -> list[EventType]:
        return [SlotSet("faq_choices", None), SlotSet("pending_choice", None)]
