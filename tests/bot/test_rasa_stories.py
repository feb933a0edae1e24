"""The test stories (bot/tests/test_stories*.yml) pass `rasa test core` on the trained model.

They cover corrections, interruptions, cancellations, retries and fallbacks; a wrong prediction
fails the run (--fail-on-prediction-errors). The model is the one `make setup` trains from bot/
(var/rasa/models/qclinic.tar.gz), retrained whenever bot/ changes.
"""

import os
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
RASA = REPO / ".venv-rasa" / "bin" / "rasa"
MODEL = REPO / "var" / "rasa" / "models" / "qclinic.tar.gz"
STORIES = REPO / "bot" / "tests"
MIN_STORIES = 40


def test_there_are_enough_test_stories() -> None:
    names = [
        story["story"]
        for path in sorted(STORIES.glob("test_stories*.yml"))
        for story in yaml.safe_load(path.read_text(encoding="utf-8"))["stories"]
    ]
    assert len(names) >= MIN_STORIES and len(set(names)) == len(names)
    for topic in ("corrected", "算了", "in the middle", "fails", "fallback", "declined"):
        assert any(topic in name for name in names), topic


@pytest.mark.rasa
def test_rasa_test_core_passes_every_story(tmp_path: Path) -> None:
    assert RASA.exists(), f"{RASA} is missing: run `make setup` to create .venv-rasa"
    assert MODEL.exists(), f"{MODEL} is missing: run `make setup` to train the model"
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2")
    command = [
        str(RASA), "test", "core", "--stories", str(STORIES), "--model", str(MODEL),
        "--fail-on-prediction-errors", "--out", str(tmp_path / "results"), "--no-plot",
    ]  # fmt: skip
    result = subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    output = result.stdout + result.stderr
    failed = tmp_path / "results" / "failed_test_stories.yml"
    details = failed.read_text(encoding="utf-8")[:4000] if failed.exists() else output[-4000:]
    assert result.returncode == 0, details
    assert "None of the test stories failed" in failed.read_text(encoding="utf-8")
