"""The NLU lookups (bot/data/lookups/*.yml) as the actions read them: the same product and place
words the NLU knows, with the values its synonyms map them to. Read once, on first use."""

import re
from functools import lru_cache
from pathlib import Path

import yaml

LOOKUPS = Path(__file__).resolve().parents[1] / "data" / "lookups"


@lru_cache(maxsize=4)
def lookup(name: str) -> tuple[str, ...]:
    """The words of one NLU lookup (and the synonyms' values), longest first."""
    data = yaml.safe_load((LOOKUPS / f"{name}.yml").read_text(encoding="utf-8")) or {}
    words: set[str] = set()
    for block in data.get("nlu") or []:
        if block.get("lookup") == name or block.get("synonym"):
            words.update(_examples(block.get("examples") or ""))
        if block.get("synonym"):
            words.add(str(block["synonym"]))
    return tuple(sorted(words, key=len, reverse=True))


@lru_cache(maxsize=4)
def synonyms(name: str) -> dict[str, str]:
    """Word → the value the NLU maps it to (江阴周庄 → 江阴市周庄镇)."""
    data = yaml.safe_load((LOOKUPS / f"{name}.yml").read_text(encoding="utf-8")) or {}
    return {
        word: str(block["synonym"])
        for block in data.get("nlu") or []
        if block.get("synonym")
        for word in _examples(block.get("examples") or "")
    }


def _examples(block: str) -> list[str]:
    return [line.strip()[2:].strip() for line in block.splitlines() if line.strip()[:2] == "- "]


def spans(text: str, words: tuple[str, ...]) -> list[tuple[int, int]]:
    """Non-overlapping spans of lookup words, longest word first, in text order."""
    taken: list[tuple[int, int]] = []
    for word in words:
        for match in re.finditer(re.escape(word), text):
            span = match.span()
            if all(span[1] <= a or span[0] >= b for a, b in taken):
                taken.append(span)
    return sorted(taken)
