"""The phrases the actions assemble (bot/templates/) cover every case the actions name."""

import re
from pathlib import Path

import pytest

from bot.actions import complaint, progress
from bot.actions.templates import TEMPLATES_DIR, phrase, phrases, templates

ACTIONS = Path(__file__).resolve().parents[2] / "bot" / "actions"


def test_every_state_with_a_deadline_rule_has_its_next_step_worded() -> None:
    assert set(phrases("progress", "demand_next")) == set(progress.DEMAND_DEADLINE)
    assert set(phrases("progress", "complaint_next")) == set(progress.COMPLAINT_DEADLINE)


def test_every_complaint_type_has_a_label() -> None:
    assert set(phrases("complaint", "types")) == set(complaint.TYPE_WORDS)


def test_phrases_are_filled_and_nested_keys_read() -> None:
    assert phrase("need", "summary.product", value="电线电缆") == "· 产品/对象：电线电缆"
    with pytest.raises(KeyError):
        phrase("need", "summary.nothing")


@pytest.mark.parametrize("path", sorted(TEMPLATES_DIR.glob("*.yml")), ids=lambda p: p.stem)
def test_every_phrase_an_action_names_exists(path: Path) -> None:
    feature = path.stem
    named = set()
    for source in ACTIONS.glob("*.py"):
        text = source.read_text(encoding="utf-8")
        if f'FEATURE = "{feature}"' in text:
            named |= set(re.findall(r'phrases?\(\s*FEATURE,\s*"([\w.]+)"', text))
    assert named, f"no action uses {path.name}"
    for key in named:
        node = templates(feature)
        for part in key.split("."):
            node = node[part]
