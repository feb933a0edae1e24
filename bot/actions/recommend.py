"""Recommend services and institutions for the completed need (retrieval.recommend)."""

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Protocol

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

logger = logging.getLogger(__name__)

K_SERVICES = 2
K_INSTITUTIONS = 3


class RecommendationLike(Protocol):
    id: str
    kind: str
    title: str
    score: float
    reason: str


@dataclass(frozen=True)
class Reply:
    """What to say: a domain response and its variables, and the ids to keep."""

    response: str
    variables: dict[str, str]
    service_ids: list[str]
    institution_ids: list[str]


def need_query(need_text: str | None, product: str | None) -> str:
    """The text to search with: the user's own words, plus the product if they did not name it."""
    text = (need_text or "").strip()
    product = (product or "").strip()
    if product and product not in text:
        text = f"{text} {product}".strip()
    return text


def _numbered(items: list[RecommendationLike]) -> str:
    return "\n".join(f"{n}. {item.title}：{item.reason}" for n, item in enumerate(items, 1))


def plan_reply(recommendations: list[RecommendationLike]) -> Reply:
    services = [r for r in recommendations if r.kind == "service"]
    institutions = [r for r in recommendations if r.kind == "institution"]
    service_ids = [r.id for r in services]
    institution_ids = [r.id for r in institutions]
    if not services:
        return Reply("utter_need_no_match", {}, [], [])
    if not institutions:
        return Reply(
            "utter_need_recommendation_services_only",
            {"services": _numbered(services)},
            service_ids,
            [],
        )
    return Reply(
        "utter_need_recommendation",
        {"services": _numbered(services), "institutions": _numbered(institutions)},
        service_ids,
        institution_ids,
    )


def _recommend_sync(text: str, region: str | None) -> list[Any]:
    from retrieval.recommend import recommend_for_need  # loads the index on first call

    return recommend_for_need(
        text, region=region, k_services=K_SERVICES, k_institutions=K_INSTITUTIONS
    )


async def find_recommendations(text: str, region: str | None) -> list[RecommendationLike]:
    """Recommendations for `text`, empty when nothing matches or the search is unavailable."""
    if not text:
        return []
    try:
        return list(await asyncio.to_thread(_recommend_sync, text, region))
    except Exception:  # the conversation goes on without recommendations
        logger.exception("recommendation search failed")
        return []


class ActionRecommendServices(Action):
    def name(self) -> str:
        return "action_recommend_services"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        text = need_query(tracker.get_slot("need_text"), tracker.get_slot("need_product"))
        place = tracker.get_slot("need_place")
        reply = plan_reply(await find_recommendations(text, place))
        logger.info(
            "recommended conversation=%s response=%s services=%s institutions=%s",
            tracker.sender_id,
            reply.response,
            reply.service_ids,
            reply.institution_ids,
        )
        dispatcher.utter_message(response=reply.response, **reply.variables)
        return [
            SlotSet("need_service_ids", reply.service_ids),
            SlotSet("need_institution_ids", reply.institution_ids),
            SlotSet("need_pending", True),
        ]
