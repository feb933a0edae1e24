"""Search and recommendation on the real model, FAISS index and seed knowledge."""

from datetime import date
from pathlib import Path

from knowledge.schema import SourceRef
from knowledge.store import KnowledgeBase, load_knowledge
from retrieval.build import build_index
from retrieval.index import read_manifest
from retrieval.recommend import answer_faq, recommend_for_need
from retrieval.search import Filters, get_searcher
from retrieval.settings import RetrievalSettings


def test_manifest_describes_the_index(retrieval_settings: RetrievalSettings) -> None:
    manifest = read_manifest(retrieval_settings.index_dir)
    assert manifest is not None
    assert manifest.model == retrieval_settings.model_path
    assert manifest.dimension == 384
    assert manifest.counts["service"] == 34
    assert manifest.counts["institution"] >= 12
    assert manifest.knowledge_hash == load_knowledge().content_hash()


def test_unchanged_knowledge_is_not_reindexed(retrieval_settings: RetrievalSettings) -> None:
    before = read_manifest(retrieval_settings.index_dir)
    result = build_index(settings=retrieval_settings)
    assert not result.rebuilt and result.manifest == before and result.encoded == 0


def test_calibration_query_ranks_metrology_above_ip(retrieval_settings: RetrievalSettings) -> None:
    hits = get_searcher(retrieval_settings).search("我们厂的压力表需要校准", kind="service", k=34)
    ranks = {hit.id: rank for rank, hit in enumerate(hits)}
    best_metrology = min(r for sid, r in ranks.items() if sid.startswith("6.1."))
    best_ip = min(r for sid, r in ranks.items() if sid.startswith("6.6."))
    assert best_metrology < best_ip
    assert hits[0].id.startswith("6.1."), [h.id for h in hits[:3]]


def test_filters_keep_only_matching_entries(retrieval_settings: RetrievalSettings) -> None:
    hits = get_searcher(retrieval_settings).search(
        "电线电缆检测", kind="institution", k=10, filters=Filters(region="江阴")
    )
    assert hits and all("江阴" in hit.entry.region for hit in hits)


def test_cable_need_recommends_testing_and_a_cable_lab(
    retrieval_settings: RetrievalSettings,
) -> None:
    recs = recommend_for_need(
        "我们有一批电线电缆需要做检测", region="江阴市周庄镇", settings=retrieval_settings
    )
    services = [r for r in recs if r.kind == "service"]
    institutions = [r for r in recs if r.kind == "institution"]
    assert services and services[0].id.startswith("6.4."), services
    assert institutions and "电线电缆" in institutions[0].reason, institutions
    assert all(r.reason for r in recs)


def test_nonsense_gets_no_recommendation(retrieval_settings: RetrievalSettings) -> None:
    assert recommend_for_need("今晚去哪里吃火锅比较好", settings=retrieval_settings) == []


def test_faq_answer_for_a_procedural_question(retrieval_settings: RetrievalSettings) -> None:
    answer = answer_faq("企业注册需要准备哪些材料", settings=retrieval_settings)
    assert answer is not None and "营业执照" in answer.answer


def test_changed_entry_reindexes_only_that_entry(
    retrieval_settings: RetrievalSettings, tmp_path: Path
) -> None:
    settings = RetrievalSettings(var_dir=tmp_path, embedding_model=retrieval_settings.model_path)
    # Reuse the session's embedding cache so only the edited entry is encoded again.
    cache = next(retrieval_settings.index_dir.glob("embeddings-*.npz"))
    settings.index_dir.mkdir(parents=True)
    (settings.index_dir / cache.name).write_bytes(cache.read_bytes())
    knowledge = load_knowledge()
    service = knowledge.get("6.4.2")
    assert service is not None
    edited = service.model_copy(update={"title": service.title + "（修订）"})
    knowledge_edited = KnowledgeBase.from_entries(
        edited if entry.id == "6.4.2" else entry for entry in knowledge.entries()
    )
    result = build_index(settings=settings, knowledge=knowledge_edited)
    assert result.rebuilt and result.encoded == 1
    assert result.manifest.knowledge_hash == knowledge_edited.content_hash()
    assert result.manifest.knowledge_hash != knowledge.content_hash()


def test_entry_on_a_withdrawn_source_is_not_recommended(
    retrieval_settings: RetrievalSettings, tmp_path: Path
) -> None:
    need, place = "我们有一批电线电缆需要做检测", "江阴市周庄镇"
    usual = recommend_for_need(need, region=place, settings=retrieval_settings)
    target = next(r.id for r in usual if r.kind == "institution")
    settings = RetrievalSettings(var_dir=tmp_path, embedding_model=retrieval_settings.model_path)
    cache = next(retrieval_settings.index_dir.glob("embeddings-*.npz"))
    settings.index_dir.mkdir(parents=True)
    (settings.index_dir / cache.name).write_bytes(cache.read_bytes())
    knowledge = load_knowledge()
    entry = knowledge.get(target)
    assert entry is not None
    withdrawn = SourceRef(
        code="GB/T 12706-2008",
        title="额定电压1kV到35kV挤包绝缘电力电缆及附件",
        effective=date(2009, 5, 1),
        withdrawn=date(2021, 5, 1),
    )
    stale = entry.model_copy(update={"sources": [*entry.sources, withdrawn]})
    built = build_index(
        settings=settings,
        knowledge=KnowledgeBase.from_entries(
            stale if e.id == target else e for e in knowledge.entries()
        ),
    )
    assert built.encoded == 0  # the indexed text did not change, only its standing

    recs = recommend_for_need(need, region=place, settings=settings)
    assert recs and target not in [r.id for r in recs]
    staff = get_searcher(settings).search(
        need, kind="institution", k=60, filters=Filters(include_under_review=True)
    )
    flagged = [h for h in staff if h.id == target]
    assert flagged and flagged[0].under_review
