"""Index lifecycle: single entries added, updated and removed as new versions; backends by
size; versions swapped under a reader that queries all the while. A hash encoder stands in
for the model (tests/retrieval/fakes.py); the knowledge is the seed."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

import pytest

from knowledge.schema import Capability, Institution, SourceRef
from knowledge.store import load_knowledge
from retrieval.build import build_index
from retrieval.index import open_version, read_manifest
from retrieval.lifecycle import EntryRejected, remove_entries, upsert_entries
from retrieval.search import Filters, get_searcher
from retrieval.settings import RetrievalSettings
from tests.retrieval.fakes import HashEncoder

ENCODER = HashEncoder()
WITHDRAWN = SourceRef(
    code="GB/T 19001-2008",
    title="质量管理体系 要求",
    effective=date(2009, 3, 1),
    withdrawn=date(2017, 7, 1),
)


@pytest.fixture
def settings(tmp_path: Path) -> RetrievalSettings:
    settings = RetrievalSettings(var_dir=tmp_path, embedding_model="hash-test")
    build_index(settings=settings, encoder=ENCODER)
    return settings


def _institution(entry_id: str, title: str, **update: object) -> Institution:
    base = load_knowledge().institutions[0]
    return base.model_copy(update={"id": entry_id, "title": title, **update})


def _ids(
    settings: RetrievalSettings, query: str, kind: str = "institution", **filters: object
) -> list[str]:
    searcher = get_searcher(settings, encoder=ENCODER)
    return [h.id for h in searcher.search(query, kind=kind, k=5, filters=Filters(**filters))]


def test_added_entry_is_served_by_the_next_version(settings: RetrievalSettings) -> None:
    before = read_manifest(settings.index_dir)
    assert before is not None and "inst-new-lab" not in _ids(settings, "麒麟琥珀砚台鉴赏馆")
    manifest = upsert_entries(
        [_institution("inst-new-lab", "麒麟琥珀砚台鉴赏馆")], settings=settings, encoder=ENCODER
    )
    assert manifest.version != before.version
    assert manifest.counts["institution"] == before.counts["institution"] + 1
    assert _ids(settings, "麒麟琥珀砚台鉴赏馆")[0] == "inst-new-lab"
    version = open_version(settings.index_dir)
    assert version is not None and version.knowledge is not None
    assert manifest.knowledge_hash == version.knowledge.content_hash()


def test_updated_entry_replaces_the_old_text(settings: RetrievalSettings) -> None:
    old = load_knowledge().institutions[3]
    renamed = old.model_copy(update={"title": "鹅湖翡翠琉璃鉴定坊", "version": 2})
    manifest = upsert_entries([renamed], settings=settings, encoder=ENCODER)
    assert manifest.counts["institution"] == len(load_knowledge().institutions)
    searcher = get_searcher(settings, encoder=ENCODER)
    hits = searcher.search("鹅湖翡翠琉璃鉴定坊", kind="institution", k=3)
    assert hits[0].id == old.id and hits[0].title == "鹅湖翡翠琉璃鉴定坊"


def test_draft_and_removed_entries_leave_the_index(settings: RetrievalSettings) -> None:
    faqs = load_knowledge().faqs
    upsert_entries(
        [faqs[0].model_copy(update={"status": "draft"})], settings=settings, encoder=ENCODER
    )
    manifest = remove_entries([faqs[1].id], settings=settings)
    assert manifest.counts["faq"] == len(faqs) - 2
    found = _ids(settings, faqs[0].title, kind="faq") + _ids(settings, faqs[1].title, kind="faq")
    assert faqs[0].id not in found and faqs[1].id not in found
    version = open_version(settings.index_dir)
    assert version is not None and version.knowledge is not None
    assert faqs[0].id in version.knowledge and faqs[1].id not in version.knowledge


def test_inconsistent_changes_are_refused_and_publish_nothing(
    settings: RetrievalSettings,
) -> None:
    before = read_manifest(settings.index_dir)
    bad = _institution(
        "inst-bad",
        "不存在的服务",
        capabilities=[Capability(service_id="6.9.9", products=["压力表"])],
    )
    with pytest.raises(EntryRejected, match=r"6\.9\.9"):
        upsert_entries([bad], settings=settings, encoder=ENCODER)
    with pytest.raises(EntryRejected, match=r"6\.1\.1"):
        remove_entries(["6.1.1"], settings=settings)  # institutions still offer it
    clash = _institution("6.1.2", "与服务同编号的机构")
    with pytest.raises(EntryRejected, match=r"6\.1\.2"):
        upsert_entries([clash], settings=settings, encoder=ENCODER)
    assert read_manifest(settings.index_dir) == before


def test_withdrawn_source_is_withheld_unless_staff_ask(settings: RetrievalSettings) -> None:
    stale = _institution("inst-stale", "鹭栖蘑菇饕餮顾问坊", sources=[WITHDRAWN])
    upsert_entries([stale], settings=settings, encoder=ENCODER)
    assert "inst-stale" not in _ids(settings, "鹭栖蘑菇饕餮顾问坊")
    searcher = get_searcher(settings, encoder=ENCODER)
    hits = searcher.search(
        "鹭栖蘑菇饕餮顾问坊", kind="institution", k=1, filters=Filters(include_under_review=True)
    )
    assert hits[0].id == "inst-stale" and hits[0].under_review
    assert hits[0].public()["review_note"] == "所依据的标准或法规已废止，条目待复审"
    fresh = stale.model_copy(update={"sources": [], "version": 2})
    upsert_entries([fresh], settings=settings, encoder=ENCODER)
    assert _ids(settings, "鹭栖蘑菇饕餮顾问坊")[0] == "inst-stale"


def test_backends_follow_the_threshold_as_collections_change(tmp_path: Path) -> None:
    settings = RetrievalSettings(var_dir=tmp_path, embedding_model="hash-test", hnsw_threshold=40)
    manifest = build_index(settings=settings, encoder=ENCODER).manifest
    assert manifest.backends == {
        "service": "flat",
        "institution": "hnsw",
        "station": "flat",
        "faq": "hnsw",
    }
    faq = load_knowledge().faqs[5]
    assert faq.id in _ids(settings, faq.title, kind="faq")
    extra = [_institution(f"inst-extra-{n}", f"新增检测机构{n}号") for n in range(30)]
    services = load_knowledge().services
    grown = upsert_entries(
        extra + [s.model_copy(update={"keywords": ["新增"]}) for s in services[:6]],
        settings=settings,
        encoder=ENCODER,
    )
    assert grown.backends["institution"] == "hnsw" and grown.backends["service"] == "flat"
    gone = [f.id for f in load_knowledge().faqs[:60]]
    shrunk = remove_entries(gone, settings=settings)
    assert shrunk.backends["faq"] == "flat"
    assert shrunk.counts["faq"] == len(load_knowledge().faqs) - 60


def test_a_reader_never_sees_half_an_index_while_versions_swap(
    settings: RetrievalSettings,
) -> None:
    faqs = load_knowledge().faqs
    full, cut = len(faqs), len(faqs) - 5
    errors: list[BaseException] = []
    seen: set[int] = set()
    versions: set[str] = set()
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            try:
                searcher = get_searcher(settings, encoder=ENCODER)
                hits = searcher.search("注册", kind="faq", k=full)
                assert len(hits) in (full, cut), len(hits)
                assert all(searcher.knowledge.get(h.id) is h.entry for h in hits)
                version = open_version(settings.index_dir)
                assert version is not None and version.knowledge is not None
                served = {e.id for e in version.knowledge.published("faq")}
                assert set(version.indexes["faq"].ids()) == served
                assert version.manifest.counts["faq"] == len(served)
                seen.add(len(hits))
                versions.add(searcher.manifest.version)
            except BaseException as exc:  # reported by the main thread
                errors.append(exc)
                return

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for _ in range(12):
            remove_entries([f.id for f in faqs[-5:]], settings=settings)
            upsert_entries(list(faqs[-5:]), settings=settings, encoder=ENCODER)
    finally:
        stop.set()
        reader.join(timeout=60)
    assert not errors, errors[0]
    assert seen <= {full, cut} and len(versions) >= 2  # it read across swaps
