"""The service manual in chat (§4.1.1): 「检测电线电缆要带什么材料」 → the service is found by
the retrieval search over services, and the bot answers from the same fields as the service
page — 受理条件, 办事材料, 服务流程 — with its commitment, then offers to register the need.

Which part is asked is read from the words (input patterns, not copy); with none of them the
message is not a manual question. A FAQ sure of the question (such as 「平台注册需要什么材料」)
and closer to it than the best service wins (see ``prefer_manual``).
"""

import asyncio
import logging
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from bot.actions.common import Option, buttons
from bot.actions.standards import citation
from bot.actions.templates import phrase
from knowledge.schema import Service
from knowledge.store import KnowledgeBase

FEATURE = "answers"  # bot/templates/answers.yml

logger = logging.getLogger(__name__)

SERVICE_MIN = 0.90  # fused score (e5 cosine + BM25 bonus) from which a service is named
# the three parts of the manual, in the order the service page shows them
ASPECT_WORDS: dict[str, re.Pattern[str]] = {
    "acceptance_conditions": re.compile(r"条件|资格|门槛|符合什么|什么要求|哪些要求|能不能受理"),
    "materials": re.compile(
        r"材料|资料|证件|带什么|带哪些|准备什么|准备哪些|提交什么|提交哪些|要带"
    ),
    "process": re.compile(
        r"怎么办|如何办|怎样办|流程|步骤|手续|程序|怎么申请|如何申请|怎么弄|怎么委托|如何委托"
    ),
}


def manual_aspects(text: str) -> list[str]:
    """The parts of the manual a message asks about, in page order; [] for none."""
    return [aspect for aspect, words in ASPECT_WORDS.items() if words.search(text)]


@dataclass(frozen=True)
class ServiceHit:
    service: Service
    score: float


def _search_sync(text: str) -> list[ServiceHit]:
    from retrieval.search import get_searcher  # loads the index on first call

    return [
        ServiceHit(h.entry, h.score)
        for h in get_searcher().search(text, kind="service", k=2)
        if isinstance(h.entry, Service)
    ]


async def search_service(text: str) -> ServiceHit | None:
    """The best published service for ``text`` when it is named clearly enough, else None."""
    try:
        hits = await asyncio.to_thread(_search_sync, text)
    except Exception:  # no manual is the honest answer when the search fails
        logger.exception("service search failed")
        return None
    return hits[0] if hits and hits[0].score >= SERVICE_MIN else None


def prefer_manual(hit: ServiceHit | None, faq_answer_score: float | None) -> bool:
    """The manual answers unless no service was found, or a FAQ is sure of the question
    (``faq_answer_score``: its score when it is) and matches better than the service."""
    if hit is None:
        return False
    return faq_answer_score is None or hit.score >= faq_answer_score


def sections(service: Service, aspects: list[str]) -> str:
    out = []
    for aspect in aspects:
        items: list[str] = list(getattr(service, aspect))
        head = phrase(FEATURE, f"manual.aspects.{aspect}")
        lines = [phrase(FEATURE, "manual.item", n=n, text=t) for n, t in enumerate(items, 1)]
        out.append("\n".join([f"{head}：", *lines]))
    return "\n".join(out)


def manual_options(service: Service, aspects: list[str]) -> list[Option]:
    """Register the need for it; see the other parts of its manual."""
    options = [
        Option(
            phrase(FEATURE, "manual.start"),
            phrase(FEATURE, "manual.start_payload", title=service.title),
        )
    ]
    for aspect in ASPECT_WORDS:
        if aspect in aspects:
            continue
        label = phrase(FEATURE, f"manual.aspects.{aspect}")
        options.append(
            Option(phrase(FEATURE, "manual.other", aspect=label), f"{service.title}的{label}")
        )
    return options


def say_manual(
    dispatcher: CollectingDispatcher,
    service: Service,
    aspects: list[str],
    *,
    knowledge: KnowledgeBase | None,
    today: date,
    offer: bool = True,
) -> None:
    cited = citation([s.code for s in service.sources], knowledge, today) if knowledge else ""
    extra: dict[str, Any] = {"buttons": buttons(manual_options(service, aspects))} if offer else {}
    dispatcher.utter_message(
        response="utter_service_manual",
        service_title=service.title,
        service_domain=service.domain_label,
        manual_sections=sections(service, aspects),
        service_commitment=service.commitment,
        service_citation=f"\n{cited}" if cited else "",
        **extra,
    )
