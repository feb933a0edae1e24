"""The Rasa project validates clean, and every response the actions name exists in the domain."""

import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
RASA = REPO / ".venv-rasa" / "bin" / "rasa"
VALIDATE = [
    str(RASA), "data", "validate", "--config", "bot/config.yml", "--domain", "bot/domain",
    "--data", "bot/data", "--fail-on-warnings",
]  # fmt: skip
# Rasa 3.6 warns about responses that no story or rule names, even when a form (utter_ask_*),
# a custom action or action_default_fallback (utter_default) utters them.
UNUSED = re.compile(r"UserWarning: The utterance '(\w+)' is not used in any story or rule")


def domain_responses() -> set[str]:
    names: set[str] = set()
    for path in (REPO / "bot" / "domain").glob("*.yml"):
        names |= set((yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("responses", {}))
    return names


def responses_named_by_actions() -> set[str]:
    pattern = re.compile(r"""["'](utter_\w+)["']""")  # every response name the code spells out
    names: set[str] = set()
    for path in (REPO / "bot" / "actions").glob("*.py"):
        names |= set(pattern.findall(path.read_text(encoding="utf-8")))
    return names


@pytest.mark.rasa
def test_rasa_data_validate_passes_with_fail_on_warnings() -> None:
    assert RASA.exists(), f"{RASA} is missing: run `make setup` to create .venv-rasa"
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2")
    result = subprocess.run(
        VALIDATE, cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]

    other_warnings = [
        line for line in output.splitlines() if "UserWarning" in line and not UNUSED.search(line)
    ]
    assert other_warnings == []
    unused = set(UNUSED.findall(output))
    uttered_elsewhere = {n for n in domain_responses() if n.startswith("utter_ask_")}
    uttered_elsewhere |= responses_named_by_actions() | {"utter_default"}
    assert unused <= uttered_elsewhere, f"responses nothing utters: {unused - uttered_elsewhere}"


def test_every_response_an_action_names_is_in_the_domain() -> None:
    assert responses_named_by_actions() <= domain_responses()
