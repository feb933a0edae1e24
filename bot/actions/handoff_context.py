"""What the expert sees of a conversation at a glance when it is escalated (§5.3 a): its QI
domain, the need as stated so far, and the enterprise.

The domain comes from the need (the domain of its recommended services) when the user stated
one, else from the best service match for the user's recent messages, else "other"; the
expert console routes and labels the escalation by it. The 质量门诊 service itself (5.3a) is no
match: "转人工" finds it first, and it says nothing of the domain.
"""

import asyncio
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from bot.actions.common import own_words
from knowledge.constants import DOMAIN_LABELS, service_domain
from knowledge.personal_data import mask_mobile, mask_text

if TYPE_CHECKING:
    from retrieval.settings import RetrievalSettings

logger = logging.getLogger(__name__)

OTHER = "other"
DOMAIN_TURNS = 3  # the user's last messages searched for a domain
CONSULTATION_SERVICE = "5.3a"  # 质量门诊: what every escalation asks for
NEED_VALUE_MAX = 100
ENTERPRISE_MAX = 100  # the desk's limit
_CODE_OF_LABEL = {label: code for code, label in DOMAIN_LABELS.items()}


def _clip(value: Any, limit: int) -> str:
    return mask_text("" if value is None else str(value).strip())[:limit]


def domain_from_need(slots: dict[str, Any]) -> str | None:
    """The domain code of a stated need: its domain slot (a label such as 检验检测, or a
    code), else the clause of its first recommended service; None without either."""
    label = str(slots.get("need_domain") or "").strip()
    if label in DOMAIN_LABELS:
        return label
    if label in _CODE_OF_LABEL:
        return _CODE_OF_LABEL[label]
    service_ids = slots.get("need_service_ids") or []
    return service_domain(str(service_ids[0])) if service_ids else None


def recent_user_texts(events: Iterable[dict[str, Any]], turns: int = DOMAIN_TURNS) -> list[str]:
    """The user's own words in their last `turns` messages (button payloads left out)."""
    texts = [own_words(e.get("text")) for e in events if e.get("event") == "user"]
    return [text for text in texts if text][-turns:]


def _match_domain_sync(texts: list[str], settings: "RetrievalSettings | None") -> str | None:
    from retrieval.search import get_searcher  # loads the index on first call
    from retrieval.settings import get_settings

    settings = settings or get_settings()
    searcher = get_searcher(settings)
    best: Any = None
    for text in texts:
        hits = [
            h for h in searcher.search(text, kind="service", k=2) if h.id != CONSULTATION_SERVICE
        ]
        for hit in hits[:1]:
            if hit.score >= settings.min_score and (best is None or hit.score > best.score):
                best = hit
    domain = getattr(best.entry, "domain", None) if best is not None else None
    return str(domain) if domain else None


async def match_domain(
    texts: list[str], *, settings: "RetrievalSettings | None" = None
) -> str | None:
    """The domain of the best service match (above the recommendation threshold) for any of
    `texts`; None when nothing matches well enough or the search is unavailable."""
    if not texts:
        return None
    try:
        return await asyncio.to_thread(_match_domain_sync, texts, settings)
    except Exception:  # the escalation goes on without a domain
        logger.exception("domain search failed")
        return None


async def escalation_domain(events: list[dict[str, Any]], slots: dict[str, Any]) -> str:
    return domain_from_need(slots) or await match_domain(recent_user_texts(events)) or OTHER


def need_facts(slots: dict[str, Any]) -> dict[str, str] | None:
    """{product, place, urgency, contact_masked} of the need, the ones known; personal numbers
    masked. None before the user said anything of a need."""
    mobile = str(slots.get("contact_mobile") or "").strip()
    contact = " ".join(
        part
        for part in (
            str(slots.get("contact_name") or "").strip(),
            mask_mobile(mobile) if mobile else "",
        )
        if part
    )
    facts = {
        "product": _clip(slots.get("need_product"), NEED_VALUE_MAX),
        "place": _clip(slots.get("need_place"), NEED_VALUE_MAX),
        "urgency": _clip(slots.get("need_date"), NEED_VALUE_MAX),
        "contact_masked": _clip(contact, NEED_VALUE_MAX),
    }
    known = {name: value for name, value in facts.items() if value}
    return known or None


def enterprise_of(slots: dict[str, Any]) -> str | None:
    """The company the user named, if any ("" when skipped counts as unknown)."""
    return _clip(slots.get("need_company"), ENTERPRISE_MAX) or None
