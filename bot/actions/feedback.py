"""Evaluation after a service ends (§7.3, §8.1): 流程, 效率, 态度 from 1 to 5 and a comment, for one
of the user's completed demands."""

import logging
from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import desk_client
from bot.actions.common import (
    Option,
    as_text,
    buttons,
    digit_options,
    latest_text,
    numbered,
    optional_text,
)
from bot.actions.progress import NUMBER_RE
from bot.actions.templates import phrase, phrases
from bot.actions.validators import parse_choice, parse_score

logger = logging.getLogger(__name__)

SCORE_SLOTS = ("feedback_process", "feedback_efficiency", "feedback_attitude")
FEEDBACK_SLOTS = (
    "feedback_candidates",
    "feedback_labels",
    "feedback_demand",
    *SCORE_SLOTS,
    "feedback_comment",
)
FEATURE = "feedback"  # the phrases: bot/templates/feedback.yml
MAX_COMMENT = 1000


def score_labels() -> dict[int, str]:
    """Score → label, best first."""
    return {int(score): label for score, label in phrases(FEATURE, "scores").items()}


def score_options() -> list[Option]:
    return [
        Option(phrase(FEATURE, "option", score=score, label=label), str(score))
        for score, label in score_labels().items()
    ]


def score_lines() -> str:
    """The scores as their own numbers (5 … 1), so that the digit typed is the score."""
    return "\n".join(
        phrase(FEATURE, "line", score=score, label=label) for score, label in score_labels().items()
    )


def overall_score(scores: list[int]) -> int:
    """The overall score the desk asks for: the rounded mean of the three (half rounds up)."""
    return max(1, min(5, int(sum(scores) / len(scores) + 0.5)))


def completed_demands(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [d for d in items if d.get("status") == "completed"]


def reset_feedback_events() -> list[EventType]:
    return [SlotSet(name, None) for name in FEEDBACK_SLOTS]


class ActionStartEvaluation(Action):
    """Find what can be evaluated: completed demands of this conversation (feedback_state)."""

    def name(self) -> str:
        return "action_start_evaluation"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events = [*reset_feedback_events(), SlotSet("pending_choice", None)]
        try:
            data = await desk_client.get_json(
                "/api/demands", params={"conversation_id": tracker.sender_id}
            )
        except desk_client.DeskClientError as exc:
            logger.warning(
                "demands unavailable conversation=%s code=%s", tracker.sender_id, exc.code
            )
            dispatcher.utter_message(response="utter_feedback_unavailable")
            return [*events, SlotSet("feedback_state", "none")]
        done = completed_demands(list(data.get("items") or []))
        named = {n.upper() for n in NUMBER_RE.findall(latest_text(tracker))}
        if named:
            done = [d for d in done if str(d["number"]) in named] or done
        if not done:
            dispatcher.utter_message(response="utter_feedback_none")
            return [*events, SlotSet("feedback_state", "none")]
        numbers = [str(d["number"]) for d in done]
        labels = [f"{d['number']}（{d.get('product', '')}）" for d in done]
        events += [SlotSet("feedback_candidates", numbers), SlotSet("feedback_labels", labels)]
        if len(numbers) == 1:
            events.append(SlotSet("feedback_demand", numbers[0]))
            dispatcher.utter_message(response="utter_feedback_start", demand=labels[0])
        return [*events, SlotSet("feedback_state", "ready")]


class ActionResetFeedback(Action):
    def name(self) -> str:
        return "action_reset_feedback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        return [*reset_feedback_events(), SlotSet("feedback_state", None)]


class ActionAskFeedbackDemand(Action):
    def name(self) -> str:
        return "action_ask_feedback_demand"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        options = digit_options(list(tracker.get_slot("feedback_labels") or []))
        dispatcher.utter_message(
            response="utter_ask_feedback_demand",
            demands=numbered(options),
            buttons=buttons(options),
        )
        return []


class ValidateFeedbackForm(FormValidationAction):
    def name(self) -> str:
        return "validate_feedback_form"

    async def validate_feedback_demand(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        candidates = list(tracker.get_slot("feedback_candidates") or [])
        text = as_text(slot_value)
        if slot_value is None or text in candidates:
            return {"feedback_demand": slot_value}
        picked = parse_choice(text, len(candidates))
        named = [n.upper() for n in NUMBER_RE.findall(text) if n.upper() in candidates]
        if picked:
            return {"feedback_demand": candidates[picked - 1]}
        if named:
            return {"feedback_demand": named[0]}
        dispatcher.utter_message(response="utter_feedback_demand_invalid")
        return {"feedback_demand": None}

    async def _score(
        self, slot: str, slot_value: Any, dispatcher: CollectingDispatcher
    ) -> dict[str, Any]:
        if slot_value is None or isinstance(slot_value, int):
            return {slot: slot_value}
        score = parse_score(as_text(slot_value))
        if score is None:
            dispatcher.utter_message(response="utter_feedback_score_invalid")
        return {slot: score}

    async def validate_feedback_process(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        return await self._score("feedback_process", slot_value, dispatcher)

    async def validate_feedback_efficiency(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        return await self._score("feedback_efficiency", slot_value, dispatcher)

    async def validate_feedback_attitude(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        return await self._score("feedback_attitude", slot_value, dispatcher)

    async def validate_feedback_comment(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        return optional_text("feedback_comment", slot_value, tracker, limit=MAX_COMMENT)


class _AskScore(Action, ABC):
    """The three score questions share one shape: a line, and the 5…1 choices."""

    @property
    @abstractmethod
    def slot(self) -> str: ...

    def name(self) -> str:
        return f"action_ask_{self.slot}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        options = score_options()
        dispatcher.utter_message(
            response=f"utter_ask_{self.slot}", scores=score_lines(), buttons=buttons(options)
        )
        return []


class ActionAskFeedbackProcess(_AskScore):
    slot = "feedback_process"


class ActionAskFeedbackEfficiency(_AskScore):
    slot = "feedback_efficiency"


class ActionAskFeedbackAttitude(_AskScore):
    slot = "feedback_attitude"


class ActionSubmitEvaluation(Action):
    def name(self) -> str:
        return "action_submit_evaluation"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        number = tracker.get_slot("feedback_demand")
        scores = [tracker.get_slot(name) for name in SCORE_SLOTS]
        done = [*reset_feedback_events(), SlotSet("feedback_state", None)]
        if not number or not all(isinstance(s, int) for s in scores):
            dispatcher.utter_message(response="utter_feedback_none")
            return done
        body = {
            "process_score": scores[0],
            "efficiency_score": scores[1],
            "attitude_score": scores[2],
            "overall_score": overall_score(scores),
            "comment": tracker.get_slot("feedback_comment") or "",
        }
        try:
            await desk_client.post_json(
                f"/api/demands/{number}/evaluation",
                body,
                params={"conversation_id": tracker.sender_id},
            )
        except desk_client.DeskClientError as exc:
            logger.warning(
                "evaluation not recorded conversation=%s number=%s code=%s status=%s",
                tracker.sender_id,
                number,
                exc.code,
                exc.status,
            )
            response = (
                "utter_feedback_not_allowed" if exc.status == 409 else "utter_feedback_failed"
            )
            dispatcher.utter_message(response=response)
            return done
        logger.info(
            "evaluation recorded conversation=%s number=%s overall=%s",
            tracker.sender_id,
            number,
            body["overall_score"],
        )
        dispatcher.utter_message(
            response="utter_feedback_thanks",
            demand=number,
            process=scores[0],
            efficiency=scores[1],
            attitude=scores[2],
        )
        return done
