"""Questions ``action_answer_faq`` answers from the structured knowledge before (or instead of)
a FAQ: a standard's validity, what the platform offers, and a service's manual."""

import logging

from rasa_sdk.executor import CollectingDispatcher

from bot.actions import capabilities, service_manual, standards
from bot.actions.common import china_today
from knowledge.store import KnowledgeBase

logger = logging.getLogger(__name__)


def knowledge_now() -> KnowledgeBase | None:
    """The live knowledge (what users are served), None when unreadable."""
    try:
        from retrieval.live import live_knowledge

        return live_knowledge()
    except Exception:
        logger.exception("knowledge base unreadable")
        return None


def answer_structured(dispatcher: CollectingDispatcher, text: str) -> str | None:
    """Answer a standard's validity or 「你们能干啥」; the kind answered, or None."""
    query = standards.read_query(text)
    wants_capabilities = capabilities.asks_capabilities(text)
    if query is None and not wants_capabilities:
        return None
    knowledge = knowledge_now()
    if knowledge is None:
        return None
    today = china_today()
    if query is not None:
        found = standards.find(query, knowledge)
        if found.standards:
            dispatcher.utter_message(
                response="utter_standard_status",
                standard_lines=standards.answer_lines(found, knowledge, today),
            )
        for code in found.unknown:
            dispatcher.utter_message(response="utter_standard_unknown", standard_code=code)
        if found.standards or found.unknown:
            return "standard"
    if wants_capabilities:
        capabilities.say_capabilities(dispatcher, knowledge)
        return "capabilities"
    return None


async def answer_manual(
    dispatcher: CollectingDispatcher,
    text: str,
    *,
    faq_answer_score: float | None,
    in_form: bool,
) -> str | None:
    """Answer 「…要带什么材料 / 怎么办理 / 需要什么条件」 from a service's manual; its id or
    None."""
    aspects = service_manual.manual_aspects(text)
    if not aspects:
        return None
    hit = await service_manual.search_service(text)
    if not service_manual.prefer_manual(hit, faq_answer_score):
        return None
    assert hit is not None
    service_manual.say_manual(
        dispatcher,
        hit.service,
        aspects,
        knowledge=knowledge_now(),
        today=china_today(),
        offer=not in_form,  # inside a form its question follows; no buttons to leave it
    )
    return hit.service.id
