"""Dates, quantities, mobiles, credit codes, case numbers by their written form, not DIET's tokens.

DIET tags whole Jieba tokens, and Jieba cuts 「50根」 into 「50」「根」 and 「下周五之前」 into
「下」「周五之前」: the entity comes out in pieces or not at all, however well the model learned.
These kinds have a grammar (a number and a measure word, a weekday after 下/这, eleven
digits starting with 1, XQ/TS with a date and a serial…), written as the training data's
regexes (bot/data/lookups/patterns.yml) whose names are those entities. This extractor runs
after DIET: it finds the longest non-overlapping matches of those regexes, and a match
replaces every DIET entity it overlaps
(the pieces); DIET's other entities stay, and entities that are only blank space are dropped.
A message DIET reads as small talk (``skip_intents``) gets no matches: 「明天无锡多少度」 gives
no date to take down.
Training is Rasa's RegexEntityExtractor's: the patterns are taken from the training data.
"""

from __future__ import annotations

import re
from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.extractors.regex_entity_extractor import RegexEntityExtractor
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    INTENT,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

Entity = dict[str, Any]
START, END = ENTITY_ATTRIBUTE_START, ENTITY_ATTRIBUTE_END


def longest_matches(patterns: list[dict[str, str]], text: str, kinds: set[str]) -> list[Entity]:
    """The matches of the patterns named in ``kinds``, longest first, none overlapping."""
    found: list[Entity] = []
    for pattern in patterns:
        if pattern["name"] not in kinds:
            continue
        for match in re.finditer(pattern["pattern"], text, flags=re.IGNORECASE):
            if match.end() > match.start():
                found.append(
                    {
                        ENTITY_ATTRIBUTE_TYPE: pattern["name"],
                        ENTITY_ATTRIBUTE_START: match.start(),
                        ENTITY_ATTRIBUTE_END: match.end(),
                        ENTITY_ATTRIBUTE_VALUE: match.group(0),
                    }
                )
    found.sort(
        key=lambda e: (
            e[ENTITY_ATTRIBUTE_START] - e[ENTITY_ATTRIBUTE_END],
            e[ENTITY_ATTRIBUTE_START],
        )
    )
    kept: list[Entity] = []
    for entity in found:
        if not any(_overlap(entity, other) for other in kept):
            kept.append(entity)
    return sorted(kept, key=lambda e: e[ENTITY_ATTRIBUTE_START])


def _overlap(a: Entity, b: Entity) -> bool:
    return bool(
        a[ENTITY_ATTRIBUTE_START] < b[ENTITY_ATTRIBUTE_END]
        and b[ENTITY_ATTRIBUTE_START] < a[ENTITY_ATTRIBUTE_END]
    )


def merge(others: list[Entity], matches: list[Entity]) -> list[Entity]:
    """``others`` without blank ones and without those a match overlaps, plus the matches."""
    kept = [
        e
        for e in others
        if str(e.get(ENTITY_ATTRIBUTE_VALUE, "")).strip()
        and not (ENTITY_ATTRIBUTE_START in e and any(_overlap(e, match) for match in matches))
    ]
    return sorted(kept + matches, key=lambda e: e.get(ENTITY_ATTRIBUTE_START, 0))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class StructuredEntityExtractor(RegexEntityExtractor):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            **RegexEntityExtractor.get_default_config(),
            "use_lookup_tables": False,
            "use_word_boundaries": False,  # Chinese has no spaces between words
            "entities": ["date", "quantity", "mobile", "credit_code", "case_number"],
            # kinds whose pattern is the whole story: DIET's guesses that no match confirms go
            # (齿轮 is no mobile)
            "exclusive": ["mobile", "credit_code", "case_number"],
            # chat about the weather or a goodbye carries no details to take down (明天, 今天)
            "skip_intents": ["out_of_scope", "goodbye", "greet", "thank"],
        }

    def process(self, messages: list[Message]) -> list[Message]:
        kinds, skip = set(self._config["entities"]), set(self._config["skip_intents"])
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or (message.get(INTENT) or {}).get("name") in skip:
                continue
            matches = self.add_extractor_name(longest_matches(self.patterns, text, kinds))
            exclusive = set(self._config["exclusive"])
            others = [
                e
                for e in message.get(ENTITIES, [])
                if e.get(ENTITY_ATTRIBUTE_TYPE) not in exclusive
            ]
            merged = merge(others, matches)
            message.set(ENTITIES, merged, add_to_output=True)
        return messages
