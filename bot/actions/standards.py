"""Is a standard still valid (§6.2.2)? Answered from the knowledge's standards table.

A full code (「GB/T 19001-2016」, however typed) names one standard; a bare number with a
validity word (「19001现在还能用吗」) names every edition of it in the table, newest first. An
answer that rests on standards of the table cites them with their status
(「依据 GB/T 19001-2016（现行有效）」).
"""

import logging
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from bot.actions.templates import phrase
from knowledge.schema import Standard, standard_key
from knowledge.store import KnowledgeBase

FEATURE = "answers"  # bot/templates/answers.yml

logger = logging.getLogger(__name__)

# Input patterns (what users type), not copy.
_PREFIX = r"(?:GB/T|GB/Z|GB|JJF|JJG|DB\d{2,6}/T|[A-Z]{2}/T|[A-Z]{2})"
CODE = re.compile(rf"{_PREFIX}\s*\d+(?:\.\d+)*\s*-\s*\d{{4}}", re.IGNORECASE)
NUMBER = re.compile(r"(?<![\d.])(\d{3,5}(?:\.\d+)?)(?![\d.]|\s*[年月日天元个件份台根])")
VALIDITY_WORDS = re.compile(r"有效|能用|还能|可以用|过期|作废|废止|现行|替代|代替|实施|最新|版本")


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).upper()
    return text.replace("—", "-").replace("－", "-").replace("–", "-")


def _number_of(code: str) -> str:
    """「19001」 of 「GB/T 19001-2016」, 「4706.1」 of 「GB 4706.1-2005」."""
    match = re.search(r"(\d+(?:\.\d+)*)\s*-\s*\d{4}$", _fold(code))
    return match.group(1) if match else ""


@dataclass(frozen=True)
class StandardQuery:
    codes: list[str] = field(default_factory=list)  # full codes as typed
    numbers: list[str] = field(default_factory=list)  # bare numbers with a validity word


def read_query(text: str) -> StandardQuery | None:
    """The standards a message asks about; None when it names none."""
    folded = _fold(text)
    codes = [re.sub(r"\s+", " ", m.group(0)).strip() for m in CODE.finditer(folded)]
    if codes:
        return StandardQuery(codes=list(dict.fromkeys(codes)))
    if not VALIDITY_WORDS.search(folded):
        return None
    numbers = list(dict.fromkeys(NUMBER.findall(folded)))
    return StandardQuery(numbers=numbers) if numbers else None


@dataclass(frozen=True)
class Found:
    standards: list[Standard]
    unknown: list[str]  # full codes the table does not hold (a bare number is only a guess)


def find(query: StandardQuery, knowledge: KnowledgeBase) -> Found:
    standards: list[Standard] = []
    unknown: list[str] = []
    for code in query.codes:
        hit = knowledge.standard(code)
        if hit is None:
            unknown.append(code)
        elif hit not in standards:
            standards.append(hit)
    for number in query.numbers:
        editions = [
            s
            for s in knowledge.standards
            if s.status == "published" and _number_of(s.code) == number
        ]
        editions.sort(key=lambda s: (s.effective or date.min, s.code), reverse=True)
        standards.extend(s for s in editions if s not in standards)
    return Found(standards, unknown)


def validity_label(standard: Standard, today: date) -> str:
    return phrase(FEATURE, f"validity.{standard.validity_on(today)}")


def describe(standard: Standard, knowledge: KnowledgeBase, today: date) -> str:
    """One line: code, title, status, dates and what replaced it."""
    parts = [
        phrase(
            FEATURE,
            "standard.head",
            code=standard.code,
            title=standard.title.strip("《》"),
            validity=validity_label(standard, today),
        )
    ]
    if standard.effective:
        key = "effective_future" if standard.effective > today else "effective"
        parts.append(phrase(FEATURE, f"standard.{key}", date=standard.effective.isoformat()))
    if standard.withdrawn:
        key = "withdrawn" if standard.withdrawn <= today else "withdrawn_future"
        parts.append(phrase(FEATURE, f"standard.{key}", date=standard.withdrawn.isoformat()))
    if standard.replaced_by:
        replacement = knowledge.standard(standard.replaced_by)
        if replacement is None:
            parts.append(phrase(FEATURE, "standard.replaced_by_unknown", code=standard.replaced_by))
        else:
            parts.append(
                phrase(
                    FEATURE,
                    "standard.replaced_by",
                    code=replacement.code,
                    validity=validity_label(replacement, today),
                )
            )
    return "，".join(parts) + "。"


def answer_lines(found: Found, knowledge: KnowledgeBase, today: date) -> str:
    return "\n".join(
        phrase(FEATURE, "standard.line", text=describe(s, knowledge, today))
        for s in found.standards
    )


def citation(codes: list[str], knowledge: KnowledgeBase, today: date) -> str:
    """「依据 GB/T 19001-2016（现行有效）」 for the cited codes the table holds; "" for none."""
    cited: list[str] = []
    seen: set[str] = set()
    for code in codes:
        standard = knowledge.standard(code)
        if standard is None or standard.key in seen:
            continue
        seen.add(standard.key)
        cited.append(
            phrase(FEATURE, "cite", code=standard.code, validity=validity_label(standard, today))
        )
    return phrase(FEATURE, "cite_joiner").join(cited)


def entry_citation(entry_id: str, knowledge: KnowledgeBase, today: date) -> str:
    entry = knowledge.get(entry_id)
    if entry is None:
        return ""
    return citation([s.code for s in entry.sources], knowledge, today)


__all__ = [
    "Found",
    "StandardQuery",
    "answer_lines",
    "citation",
    "entry_citation",
    "find",
    "read_query",
    "standard_key",
]
