"""live_knowledge: the live version's entries, fresh within the check interval, in any process."""

import subprocess
import sys
import time
from pathlib import Path

import pytest

from knowledge.store import load_knowledge
from retrieval.build import build_index
from retrieval.index import read_manifest
from retrieval.lifecycle import upsert_entries
from retrieval.live import live_knowledge
from retrieval.settings import RetrievalSettings
from tests.retrieval.fakes import HashEncoder

ENCODER = HashEncoder()
READER = """
import sys, time
from pathlib import Path
from retrieval.live import live_knowledge
from retrieval.settings import RetrievalSettings
settings = RetrievalSettings(index_path=Path(sys.argv[1]), embedding_model="hash-test")
print(live_knowledge(settings).get(sys.argv[2]).answer, flush=True)
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    answer = live_knowledge(settings).get(sys.argv[2]).answer
    if answer != sys.argv[3]:
        print(answer, flush=True)
        break
    time.sleep(0.05)
"""


@pytest.fixture
def settings(tmp_path: Path) -> RetrievalSettings:
    settings = RetrievalSettings(var_dir=tmp_path, embedding_model="hash-test")
    build_index(settings=settings, encoder=ENCODER)
    return settings


def test_a_publication_is_seen_after_the_interval_without_reloading_before(
    settings: RetrievalSettings,
) -> None:
    faq = load_knowledge().faqs[0]
    first = live_knowledge(settings, interval_s=60)
    assert first.get(faq.id).answer == faq.answer  # type: ignore[union-attr]
    assert live_knowledge(settings, interval_s=60) is first  # no look at the disk at all
    upsert_entries(
        [faq.model_copy(update={"answer": "新答案。"})], settings=settings, encoder=ENCODER
    )
    assert live_knowledge(settings, interval_s=60) is first  # within the interval: as it was
    fresh = live_knowledge(settings, interval_s=0)
    assert fresh.get(faq.id).answer == "新答案。"  # type: ignore[union-attr]
    assert live_knowledge(settings, interval_s=0) is fresh  # CURRENT unchanged: not re-read
    manifest = read_manifest(settings.index_dir)
    assert manifest is not None and manifest.source == "yaml"


def test_another_process_sees_the_new_version(settings: RetrievalSettings) -> None:
    faq = load_knowledge().faqs[1]
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(settings.index_dir), faq.id, faq.answer],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert reader.stdout is not None
    assert reader.stdout.readline().strip() == faq.answer
    published = time.perf_counter()
    upsert_entries(
        [faq.model_copy(update={"answer": "别的进程写入的答案。"})],
        settings=settings,
        encoder=ENCODER,
    )
    assert reader.stdout.readline().strip() == "别的进程写入的答案。"
    assert time.perf_counter() - published < 5
    assert reader.wait(timeout=10) == 0


def test_build_leaves_a_database_publication_alone(settings: RetrievalSettings) -> None:
    faq = load_knowledge().faqs[2]
    upsert_entries(
        [faq.model_copy(update={"answer": "工作人员发布的答案。"})],
        settings=settings,
        encoder=ENCODER,
        source="database",
    )
    result = build_index(settings=settings, encoder=ENCODER)
    assert result.rebuilt is False and result.manifest.source == "database"
    assert live_knowledge(settings, interval_s=0).get(faq.id).answer == "工作人员发布的答案。"  # type: ignore[union-attr]
    forced = build_index(settings=settings, encoder=ENCODER, force=True)
    assert forced.rebuilt is True and forced.manifest.source == "yaml"
