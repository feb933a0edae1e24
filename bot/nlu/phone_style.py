"""Phone-typed variants of the training examples: bot/data/nlu/phone_style.yml.

The examples in bot/data were written carefully, the way one writes for training; enterprises
type on a phone: no punctuation or spaces instead of it, 啥 and 咋 for 什么 and 怎么, 礼拜 for
周, a question ending in 不 or 没, particles (啊 哈 呢 啦), 你 for 您, no 请问, an IME's
homophone (再 for 在). Each rule here is such a habit, applied to the words around the entities
(an entity's own words change only where the rule is about dates, e.g. 下周三 → 下礼拜三). Every
example gets at most one variant, the rules chosen by a stable hash of its text, so the file is
the same on every run; variants equal to an example already in the training data are left out.

    .venv/bin/python -m bot.nlu.phone_style          # rewrite bot/data/nlu/phone_style.yml
    .venv/bin/python -m bot.nlu.phone_style --check  # fail when the file is not what it gives

A variant that happens to be a text of the held-out test sets is left out too.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
NLU = REPO / "bot" / "data" / "nlu"
OUT = NLU / "phone_style.yml"
# The held-out test sets: a variant that happens to be one of their texts is left out, so that
# nothing is trained on a test text (tests/bot/test_nlu_heldout.py checks the same).
HELD_OUT = tuple(
    REPO / "bench" / "data" / name for name in ("nlu_test", "nlu_test_phone", "nlu_test_blind")
)
# Intents whose examples are whole sentences worth varying (not 1/2/3 choices or payloads).
SKIP_INTENTS = frozenset({"choose_option"})
ANNOTATION = re.compile(r"(\[[^\]]+\](?:\(\w+\)|\{[^}]*\}))")
ENTITY_TEXT = re.compile(r"^\[([^\]]+)\](.*)$")


@dataclass(frozen=True)
class Rule:
    name: str
    pattern: re.Pattern[str]
    replacement: str
    in_entities: bool = False  # also inside an entity's words (dates)


def _rule(name: str, pattern: str, replacement: str, *, in_entities: bool = False) -> Rule:
    return Rule(name, re.compile(pattern), replacement, in_entities)


# Colloquial words: always applied when they occur.
WORDS = (
    _rule("what", r"什么", "啥"),
    _rule("how-do", r"怎么办", "咋办"),
    _rule("how", r"怎么(?!样)", "咋"),
    _rule("how-is", r"怎么样", "咋样"),
    _rule("please-ask", r"^(?:请问|您好[，,]?|你好[，,]?)", ""),
    _rule("you", r"您", "你"),
    _rule(
        "week",
        r"(?<=[下这本上])个?(?:周|星期)(?=[一二三四五六日天]|$|[前内之以])",
        "礼拜",
        in_entities=True,
    ),
    _rule("not-have", r"没有(?=[人回结消动])", "没"),
    _rule("already", r"已经", "都"),
    _rule("a-bit", r"一下", "下"),
)
# Question tags: 「能…吗」 → 「能…不」, 「…了吗」 → 「…了没」.
TAGS = (
    _rule("tag-not", r"^((?:能|可以|要|有|会|收|用).*)吗[？?]?$", r"\1不"),
    _rule("tag-yet", r"了吗[？?]?$", "了没"),
)
PARTICLES = ("啊", "哈", "呢", "啦", "呀")
TYPOS = (_rule("zai", r"在(?!线)", "再"), _rule("de", r"得(?=很|太|好)", "的"))
PUNCTUATION = re.compile(r"[，,。！!；;：:、]")
TRAILING = re.compile(r"[？?。！!]+$")


def _pick(text: str, salt: str, n: int) -> int:
    digest = hashlib.sha256(f"{salt}:{text}".encode()).digest()
    return digest[0] % n


def _apply(rule: Rule, parts: list[str]) -> list[str]:
    out = []
    for part in parts:
        if ANNOTATION.fullmatch(part):
            if rule.in_entities and (m := ENTITY_TEXT.match(part)):
                out.append("[" + rule.pattern.sub(rule.replacement, m.group(1)) + "]" + m.group(2))
            else:
                out.append(part)
        else:
            out.append(rule.pattern.sub(rule.replacement, part))
    return out


def _edges(parts: list[str], rule: Rule) -> list[str]:
    """A rule anchored at the start or end of the sentence, applied to its first/last words."""
    if not parts:
        return parts
    index = 0 if rule.pattern.pattern.startswith("^") else len(parts) - 1
    if ANNOTATION.fullmatch(parts[index]):
        return parts
    return [*parts[:index], rule.pattern.sub(rule.replacement, parts[index]), *parts[index + 1 :]]


def variant(example: str) -> str:
    """The phone-typed form of one annotated example (the example itself when nothing applies)."""
    parts = [p for p in ANNOTATION.split(example) if p]
    for rule in WORDS:
        parts = _edges(parts, rule) if rule.pattern.pattern.startswith("^") else _apply(rule, parts)
    for rule in TAGS:
        parts = _edges(parts, rule)
    # punctuation: dropped, or a space where a comma was (about one example in three)
    spaced = _pick(example, "space", 3) == 0
    parts = [
        p if ANNOTATION.fullmatch(p) else PUNCTUATION.sub(" " if spaced else "", p) for p in parts
    ]
    parts = _edges(parts, _rule("trailing", TRAILING.pattern, ""))
    if _pick(example, "typo", 6) == 0:
        parts = _apply(TYPOS[_pick(example, "which-typo", len(TYPOS))], parts)
    text = "".join(parts).strip()
    if text and not ANNOTATION.search(text[-12:]) and _pick(example, "particle", 4) == 0:
        text += PARTICLES[_pick(example, "which-particle", len(PARTICLES))]
    return re.sub(r" {2,}", " ", text)


def load(folder: Path, *, exclude: Path | None = None) -> list[tuple[str, list[str]]]:
    """(intent, examples) blocks of the training files, in order, without ``exclude``."""
    blocks: list[tuple[str, list[str]]] = []
    for path in sorted(folder.glob("*.yml")):
        if exclude is not None and path.resolve() == exclude.resolve():
            continue
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            if "intent" not in block:
                continue
            lines = [
                line.strip()[2:]
                for line in str(block["examples"]).splitlines()
                if line.strip().startswith("- ")
            ]
            blocks.append((str(block["intent"]), lines))
    return blocks


def plain(example: str) -> str:
    """The text an annotated example stands for, as the held-out check compares it."""
    text = re.sub(r"\[([^\]]+)\](?:\(\w+\)|\{[^}]*\})", r"\1", example)
    text = unicodedata.normalize("NFKC", text).lower()
    return "".join(c for c in text if not unicodedata.category(c).startswith(("P", "Z", "S")))


def generate(folder: Path = NLU) -> str:
    blocks = load(folder, exclude=OUT)
    written = {example for _, examples in blocks for example in examples}
    held_out = {plain(e) for f in HELD_OUT for _, examples in load(f) for e in examples}
    per_intent: dict[str, list[str]] = {}
    for intent, examples in blocks:
        if intent in SKIP_INTENTS:
            continue
        for example in examples:
            if example.startswith("/"):
                continue
            new = variant(example)
            if new and new != example and new not in written and plain(new) not in held_out:
                written.add(new)
                per_intent.setdefault(intent, []).append(new)
    out = [
        "# Generated by `python -m bot.nlu.phone_style` from the other files here: do not edit.",
        'version: "3.1"',
        "",
        "nlu:",
    ]
    for intent, examples in per_intent.items():
        out += [f"  - intent: {intent}", "    examples: |"]
        out += [f"      - {example}" for example in examples]
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when the file is stale")
    args = parser.parse_args()
    text = generate()
    if args.check:
        if not OUT.exists() or OUT.read_text(encoding="utf-8") != text:
            sys.exit(f"{OUT} is stale: run python -m bot.nlu.phone_style")
        return
    OUT.write_text(text, encoding="utf-8")
    count = sum(1 for line in text.splitlines() if line.startswith("      - "))
    print(f"{OUT.relative_to(REPO)}: {count} variants")


if __name__ == "__main__":
    main()
