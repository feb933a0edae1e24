"""Search test (召回测试): what the bot would retrieve for a question, with every score."""

from typing import Any

from retrieval.search import Filters, get_searcher
from retrieval.settings import RetrievalSettings

KINDS = ("service", "institution", "faq")


def threshold(kind: str, settings: RetrievalSettings) -> float:
    """The fused score from which the bot uses a hit (retrieval.recommend's rules)."""
    if kind == "faq":
        return settings.faq_min_score
    if kind == "institution":
        return settings.min_score - 0.05
    return settings.min_score


def recall(
    query: str, *, kinds: tuple[str, ...], k: int, settings: RetrievalSettings
) -> dict[str, Any]:
    """Per kind the best ``k`` hits (held-back ones included and flagged) with their scores."""
    searcher = get_searcher(settings)
    out: dict[str, Any] = {"index_version": searcher.manifest.version, "kinds": []}
    for kind in kinds:
        limit = threshold(kind, settings)
        hits = searcher.search(query, kind=kind, k=k, filters=Filters(include_under_review=True))
        out["kinds"].append(
            {
                "kind": kind,
                "threshold": round(limit, 4),
                "hits": [
                    {
                        "id": h.id,
                        "title": h.title,
                        "summary": h.entry.summary(),
                        "dense": round(h.dense, 4),
                        "lexical": round(h.lexical, 4),
                        "score": round(h.score, 4),
                        "under_review": h.under_review,
                        "served": h.score >= limit and not h.under_review,
                    }
                    for h in hits
                ],
            }
        )
    return out
