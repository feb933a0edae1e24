"""Recommendations of services and institutions for a need (retrieval.recommend), as a reply.

The search encodes the need through the app's model (retrieval.remote_encoder); while the app is
out of reach (restarting) the reply says the recommendation is unavailable for now, and the
need goes on: it can still be submitted, and the next summary tries again."""

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.actions.common import own_words

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
    """What to say: a domain response and its variables, and what to keep of it."""

    response: str
    variables: dict[str, str]
    service_ids: list[str] | None  # None: not recommended yet (the search was unavailable)
    institution_ids: list[str]
    institution_titles: list[str] = field(default_factory=list)
    domain: str | None = None  # 检验检测, 计量 … of the best service


def need_query(need_text: str | None, product: str | None) -> str:
    """The text to search with: the user's own words, plus the product if they did not name it."""
    text = own_words(need_text)
    product = (product or "").strip()
    if product and product not in text:
        text = f"{text} {product}".strip()
    return text


def _numbered(items: list[RecommendationLike]) -> str:
    return "\n".join(f"{n}. {item.title}：{item.reason}" for n, item in enumerate(items, 1))


def domain_of(service_id: str) -> str | None:
    """The QI domain label (检验检测, 计量 …) of a service of the knowledge base."""
    try:
        from retrieval.live import live_knowledge

        entry = live_knowledge().get(service_id)
    except Exception:  # the label is a nicety; the summary goes on without it
        logger.exception("knowledge base unreadable")
        return None
    label = getattr(entry, "domain_label", None)
    return str(label) if label else None


def plan_reply(
    recommendations: list[RecommendationLike] | None, *, domain_lookup: Any = domain_of
) -> Reply:
    """What to say for the recommendations; ``None`` (the search was unavailable) says so."""
    if recommendations is None:
        return Reply("utter_need_search_unavailable", {}, None, [])
    services = [r for r in recommendations if r.kind == "service"]
    institutions = [r for r in recommendations if r.kind == "institution"]
    service_ids = [r.id for r in services]
    if not services:
        return Reply("utter_need_no_match", {}, [], [])
    domain = domain_lookup(service_ids[0])
    if not institutions:
        return Reply(
            "utter_need_recommendation_services_only",
            {"services": _numbered(services)},
            service_ids,
            [],
            domain=domain,
        )
    return Reply(
        "utter_need_recommendation",
        {"services": _numbered(services), "institutions": _numbered(institutions)},
        service_ids,
        [r.id for r in institutions],
        [r.title for r in institutions],
        domain,
    )


def _recommend_sync(text: str, region: str | None) -> list[Any]:
    from retrieval.recommend import recommend_for_need  # loads the index on first call

    return recommend_for_need(
        text, region=region, k_services=K_SERVICES, k_institutions=K_INSTITUTIONS
    )


async def find_recommendations(text: str, region: str | None) -> list[RecommendationLike] | None:
    """Recommendations for `text`: empty when nothing matches (or the index is unusable),
    ``None`` when the model that encodes the need is out of reach for now."""
    from retrieval.remote_encoder import EncoderUnavailable

    if not text:
        return []
    try:
        return list(await asyncio.to_thread(_recommend_sync, text, region))
    except EncoderUnavailable as exc:  # the app restarting: a moment, not "nothing matches"
        logger.warning("recommendation search unavailable: %s", exc)
        return None
    except Exception:  # the conversation goes on without recommendations
        logger.exception("recommendation search failed")
        return []
