"""Answer procedural questions from the knowledge base (retrieval.recommend.answer_faq)."""

import asyncio
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

logger = logging.getLogger(__name__)


def _answer_sync(text: str) -> Any:
    from retrieval.recommend import answer_faq  # loads the index on first call

    return answer_faq(text)


async def find_answer(text: str) -> Any | None:
    """The knowledge base's answer to `text`, or None when unsure or unavailable."""
    if not text.strip():
        return None
    try:
        return await asyncio.to_thread(_answer_sync, text)
    except Exception:  # not sure is the honest answer when the search fails
        logger.exception("FAQ search failed")
        return None


class ActionAnswerFaq(Action):
    def name(self) -> str:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        answer = await find_answer(tracker.latest_message.get("text") or "")
        if answer is None:
            dispatcher.utter_message(response="utter_faq_unknown")
        else:
            dispatcher.utter_message(
                response="utter_faq_answer", faq_question=answer.question, faq_answer=answer.answer
            )
        return []
