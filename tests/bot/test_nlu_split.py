"""The NLU data and its held-out split: enough examples per intent, no test text trained on."""

import re
from collections import Counter
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
TRAIN = REPO / "bot" / "data" / "nlu"
TEST = REPO / "bench" / "data" / "nlu_test"
MAIN_INTENTS = (
    "greet", "goodbye", "thank", "affirm", "deny", "cancel", "bot_challenge", "out_of_scope",
    "inform", "correct_info", "request_service", "ask_faq", "ask_registration", "file_complaint",
    "check_progress", "give_feedback", "request_human",
)  # fmt: skip
_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]+\)|\{[^}]+\})")


def examples(folder: Path) -> list[tuple[str, str]]:
    """(intent, plain text) of every example in the folder's YAML files."""
    found = []
    for path in sorted(folder.glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            if "intent" not in block:
                continue
            for line in block["examples"].splitlines():
                if line.strip().startswith("- "):
                    found.append((block["intent"], _ANNOTATION.sub(r"\1", line.strip()[2:])))
    return found


def test_every_main_intent_has_enough_examples() -> None:
    train, test = Counter(i for i, _ in examples(TRAIN)), Counter(i for i, _ in examples(TEST))
    assert {i: train[i] for i in MAIN_INTENTS if train[i] < 40} == {}
    assert {i: test[i] for i in MAIN_INTENTS if test[i] < 20} == {}


def test_no_test_text_is_trained_on() -> None:
    trained = {text for _, text in examples(TRAIN)}
    assert [text for _, text in examples(TEST) if text in trained] == []


def test_no_text_has_two_intents() -> None:
    intents: dict[str, set[str]] = {}
    for intent, text in examples(TRAIN):
        intents.setdefault(text, set()).add(intent)
    assert {t: i for t, i in intents.items() if len(i) > 1} == {}
