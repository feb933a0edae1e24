"""Link the institution a complainant names to a knowledge-base institution, or to none.

People name an institution loosely (「远澄线缆」, 「江阴远澄线缆检测」). A name links when, after
dropping the place in front and the legal form behind, it and the institution's title contain one
another or are nearly the same, *and* it carries the institution's trade name (字号, the words right
after the place). Generic names such as 「线缆检测」 carry no trade name and link to nothing; two
equally good candidates link to nothing either: a missing link is fixable, a wrong one misleads.
"""

import difflib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from knowledge.schema import Institution

# cities only, longest first: a district (新吴, 周庄 …) is often part of the trade name itself
_PLACES = ("江苏省", "无锡市", "江阴市", "宜兴市", "无锡", "江阴", "宜兴")
_LEGAL_FORMS = ("股份有限公司", "有限责任公司", "有限公司", "公司")
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)
TRADE_NAME_CHARS = 2
SIMILARITY_THRESHOLD = 0.8


def normalise(name: str) -> str:
    """NFKC, no spaces or punctuation, without the leading place and the trailing legal form."""
    text = _NOISE.sub("", unicodedata.normalize("NFKC", name)).lower()
    changed = True
    while changed:
        changed = False
        for place in _PLACES:
            if text.startswith(place) and len(text) > len(place):
                text, changed = text.removeprefix(place), True
                break
    for form in _LEGAL_FORMS:
        if text.endswith(form) and len(text) > len(form):
            text = text.removesuffix(form)
            break
    return text


def score(query: str, title: str) -> float:
    """How well a normalised ``query`` names the normalised ``title`` (0 … 1)."""
    if len(query) < TRADE_NAME_CHARS or title[:TRADE_NAME_CHARS] not in query:
        return 0.0
    if query == title:
        return 1.0
    if query in title or title in query:
        return 0.95
    return difflib.SequenceMatcher(None, query, title, autojunk=False).ratio()


@dataclass(frozen=True)
class Match:
    institution_id: str
    title: str
    score: float


def match_institution(name: str, institutions: Iterable[Institution]) -> Match | None:
    """The one institution ``name`` clearly means, or None."""
    query = normalise(name)
    ranked = sorted(
        ((score(query, normalise(i.title)), i) for i in institutions),
        key=lambda pair: pair[0],
        reverse=True,
    )
    if not ranked or ranked[0][0] < SIMILARITY_THRESHOLD:
        return None
    best_score, best = ranked[0]
    if len(ranked) > 1 and ranked[1][0] >= SIMILARITY_THRESHOLD and ranked[1][0] == best_score:
        return None  # ambiguous
    return Match(institution_id=best.id, title=best.title, score=best_score)
