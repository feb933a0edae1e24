"""The catalogue reads the live knowledge: a publication (or a withdrawal) shows at once."""

import time
from pathlib import Path

import pytest

from desk.catalogue import service
from desk.errors import NotFound
from knowledge.schema import Service
from knowledge.store import load_knowledge
from retrieval import live
from retrieval.build import build_index
from retrieval.lifecycle import upsert_entries
from retrieval.settings import RetrievalSettings
from tests.retrieval.fakes import HashEncoder

ENCODER = HashEncoder()


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RetrievalSettings:
    settings = RetrievalSettings(var_dir=tmp_path, embedding_model="hash-test")
    build_index(settings=settings, encoder=ENCODER)
    monkeypatch.setattr(live, "get_settings", lambda: settings)
    return settings


def publish(entry: Service, settings: RetrievalSettings) -> None:
    upsert_entries([entry], settings=settings, encoder=ENCODER)
    time.sleep(live.CHECK_INTERVAL_S + 0.05)


def test_a_published_change_and_a_withdrawal_show_at_once(settings: RetrievalSettings) -> None:
    original = load_knowledge().get("6.1.3")
    assert isinstance(original, Service)
    before = service.catalogue().version
    assert service.service_page(service_id="6.1.3").materials == original.materials

    changed = original.model_copy(
        update={"materials": ["计量器具清单", "新增：使用地点说明"], "version": 2}
    )
    publish(changed, settings)
    assert service.service_page(service_id="6.1.3").materials == changed.materials
    assert service.catalogue().version != before

    publish(changed.model_copy(update={"status": "withdrawn", "version": 3}), settings)
    with pytest.raises(NotFound) as caught:
        service.service_page(service_id="6.1.3")
    assert "没有找到服务事项" in caught.value.message
    metrology = next(d for d in service.catalogue().domains if d.code == "metrology")
    assert "6.1.3" not in [s.id for s in metrology.services]
