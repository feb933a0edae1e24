"""Recommendations for a stated need: services, and the institutions that can deliver them."""

from dataclasses import dataclass
from typing import Any

from retrieval.lexical import normalize, tokenize
from retrieval.search import Hit, get_searcher
from retrieval.settings import RetrievalSettings, get_settings

CAPABILITY_BONUS = 0.04  # the institution has a capability for a recommended service
PRODUCT_BONUS = 0.03  # ... and names the user's product in it
REGION_BONUS = {"same_area": 0.03, "same_city": 0.015}
RATING_WEIGHT = 0.005  # per rating point above 4


@dataclass(frozen=True)
class Recommendation:
    id: str
    kind: str
    title: str
    score: float
    reason: str


@dataclass(frozen=True)
class FaqAnswer:
    id: str
    question: str
    answer: str
    score: float


def _proximity(place: str | None, region: str | None) -> str | None:
    if not place or not region:
        return None
    if region in place or place in region:
        return "same_area"
    city = region[:3]
    return "same_city" if city and city in place else None


def _matching_capabilities(entry: Any, text: str, service_ids: set[str]) -> tuple[list[str], bool]:
    """Products/items of the institution that fit the need, and whether the product matched."""
    words = [w for w in tokenize(text) if len(w) >= 2]
    matched: list[str] = []
    product_hit = False
    for capability in getattr(entry, "capabilities", []):
        if capability.service_id not in service_ids:
            continue
        named = [p for p in capability.products if p in text or any(w in p for w in words)]
        product_hit = product_hit or bool(named)
        matched.extend(named or capability.products[:1])
    return list(dict.fromkeys(matched)), product_hit


def _service_reason(entry: Any) -> str:
    description = " ".join(entry.description.split())
    if len(description) > 48:
        description = description[:47] + "…"
    return f"{entry.domain_label}类服务，{description}"


def _institution_reason(entry: Any, products: list[str], proximity: str | None) -> str:
    parts: list[str] = []
    if products:
        parts.append("可承接" + "、".join(products[:3]))
    kinds = sorted({q.kind for q in getattr(entry, "qualifications", [])})
    if kinds:
        parts.append("具备" + "/".join(kinds) + "资质")
    if proximity == "same_area":
        parts.append(f"与您同在{entry.region}")
    elif proximity == "same_city":
        parts.append(f"位于{entry.region}，距离较近")
    else:
        parts.append(f"位于{entry.region}")
    if entry.service_modes:
        parts.append("支持" + "、".join(entry.service_modes))
    return "；".join(parts)


def _rank_institutions(
    hits: list[Hit], *, text: str, place: str | None, service_ids: set[str]
) -> list[tuple[float, Hit, str]]:
    ranked = []
    for hit in hits:
        products, product_hit = _matching_capabilities(hit.entry, text, service_ids)
        proximity = _proximity(place, hit.entry.region)
        score = hit.score
        score += CAPABILITY_BONUS if products else 0.0
        score += PRODUCT_BONUS if product_hit else 0.0
        score += REGION_BONUS.get(proximity or "", 0.0)
        score += RATING_WEIGHT * ((hit.entry.rating or 4.0) - 4.0)
        ranked.append((score, hit, _institution_reason(hit.entry, products, proximity)))
    ranked.sort(key=lambda item: item[0], reverse=True)
    return ranked


def recommend_for_need(
    text: str,
    *,
    region: str | None = None,
    k_services: int = 2,
    k_institutions: int = 3,
    settings: RetrievalSettings | None = None,
) -> list[Recommendation]:
    """Services first, then institutions; empty when nothing matches well enough."""
    settings = settings or get_settings()
    searcher = get_searcher(settings)
    text = normalize(text)
    services = [
        h
        for h in searcher.search(text, kind="service", k=k_services)
        if h.score >= settings.min_score
    ]
    if not services:
        return []
    service_ids = {h.id for h in services}
    candidates = [
        h
        for h in searcher.search(text, kind="institution", k=30)
        if h.score >= settings.min_score - 0.05
        or any(c.service_id in service_ids for c in h.entry.capabilities)
    ]
    ranked = _rank_institutions(candidates, text=text, place=region, service_ids=service_ids)
    result = [
        Recommendation(
            id=h.id, kind="service", title=h.title, score=h.score, reason=_service_reason(h.entry)
        )
        for h in services
    ]
    result += [
        Recommendation(id=h.id, kind="institution", title=h.title, score=score, reason=reason)
        for score, h, reason in ranked[:k_institutions]
    ]
    return result


def answer_faq(text: str, *, settings: RetrievalSettings | None = None) -> FaqAnswer | None:
    settings = settings or get_settings()
    hits = get_searcher(settings).search(text, kind="faq", k=1)
    if not hits or hits[0].score < settings.faq_min_score:
        return None
    entry = hits[0].entry
    return FaqAnswer(id=entry.id, question=entry.title, answer=entry.answer, score=hits[0].score)


def explain_institution(entry: Any, *, text: str, place: str | None, service_ids: set[str]) -> str:
    """Why an institution fits a stated need, in the recommendation's own words (the desk shows
    it beside the institutions a demand was given)."""
    products, _ = _matching_capabilities(entry, normalize(text), service_ids)
    return _institution_reason(entry, products, _proximity(place, entry.region))
