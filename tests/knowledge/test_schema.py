"""The schema, the seed data and the loader."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from knowledge import (
    DATA_DIR,
    DOMAIN_LABELS,
    SERVICE_IDS,
    Institution,
    KnowledgeBase,
    KnowledgeError,
    Service,
    Station,
    load_knowledge,
    parse_entry,
)

# DESIGN §4, written out by hand so that a change to the constants is noticed.
DESIGN_SERVICE_IDS = {
    *(f"6.1.{n}" for n in range(1, 5)),
    *(f"6.2.{n}" for n in range(1, 6)),
    *(f"6.3.{n}" for n in range(1, 4)),
    *(f"6.4.{n}" for n in range(1, 5)),
    *(f"6.5.{n}" for n in range(1, 5)),
    *(f"6.6.{n}" for n in range(1, 4)),
    *(f"6.7.{n}" for n in range(1, 7)),
    "5.3a",
    "5.3b",
    "5.3c",
    "5.3d",
    "5.2b4",
}


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge()


def _service(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": "service",
        "id": "6.4.2",
        "title": "检验检测需求匹配",
        "owner": "检验检测业务组",
        "review_due": "2027-06-30",
        "domain": "testing",
        "clause": "6.4.2",
        "description": "协助匹配相应技术机构。",
        "acceptance_conditions": ["已注册的企业用户"],
        "materials": ["检测需求说明"],
        "process": ["发布需求", "推荐机构"],
        "commitment": "1个工作日内响应，3个工作日内推荐。",
        "example_queries": ["问法一", "问法二", "问法三", "问法四", "问法五"],
    }
    data.update(changes)
    return data


def test_seed_counts(kb: KnowledgeBase) -> None:
    counts = kb.counts()
    assert counts["service"] == 34
    assert counts["institution"] >= 24
    assert counts["station"] >= 10
    assert counts["faq"] >= 30
    assert len(kb) == sum(counts.values())


def test_service_ids_are_exactly_those_of_design(kb: KnowledgeBase) -> None:
    assert len(DESIGN_SERVICE_IDS) == 34
    assert set(SERVICE_IDS) == DESIGN_SERVICE_IDS
    assert {s.id for s in kb.services} == DESIGN_SERVICE_IDS


def test_services_are_complete(kb: KnowledgeBase) -> None:
    for service in kb.services:
        assert service.domain in DOMAIN_LABELS
        assert len(set(service.example_queries)) >= 5, service.id
        assert service.acceptance_conditions and service.materials and service.process
        assert any(src.code.startswith("DB3202/T 1063") for src in service.sources), service.id
    assert {s.domain for s in kb.services} == set(DOMAIN_LABELS)


def test_metrology_and_certification_cite_their_sources(kb: KnowledgeBase) -> None:
    metrology = kb.get("6.1.1")
    assert isinstance(metrology, Service)
    assert {"JJF 1069-2012", "计量法（2018年修正）"} <= {s.code for s in metrology.sources}
    certification = kb.get("6.3.1")
    assert isinstance(certification, Service)
    gb19001 = next(s for s in certification.sources if s.code == "GB/T 19001-2016")
    assert str(gb19001.effective) == "2017-07-01"


def test_institution_domains_follow_their_capabilities(kb: KnowledgeBase) -> None:
    cable = kb.get("inst-yuancheng-cable-lab")
    assert isinstance(cable, Institution)
    assert cable.domains == ["testing"]
    platform = kb.get("inst-platform-center")
    assert isinstance(platform, Institution)
    assert platform.domains == ["other", "quality"]
    covered = {d for i in kb.institutions for d in i.domains}
    assert covered == set(DOMAIN_LABELS)


def _offering(kb: KnowledgeBase, *words: str) -> list[Institution]:
    return [i for i in kb.institutions if all(w in i.search_text() for w in words)]


@pytest.mark.parametrize(
    ("words", "at_least"),
    [
        (("导体电阻", "绝缘厚度", "耐压试验", "GB/T 12706", "GB/T 5023"), 2),
        (("压力表",), 2),
        (("衡",), 2),
        (("GB/T 19001-2016", "认证机构"), 1),
        (("专利申请", "商标"), 1),
        (("企业标准", "标准化良好行为"), 1),
        (("食品", "农药残留"), 1),
        (("汽车零部件", "盐雾"), 1),
        (("EMC", "家用电器"), 1),
        (("纺织", "色牢度"), 1),
        (("化工", "熔体流动速率"), 1),
    ],
)
def test_institutions_cover_the_required_fields(
    kb: KnowledgeBase, words: tuple[str, ...], at_least: int
) -> None:
    assert len(_offering(kb, *words)) >= at_least, words


def _products(institution: Institution, service_id: str) -> str:
    return "、".join(
        p for c in institution.capabilities if c.service_id == service_id for p in c.products
    )


@pytest.mark.parametrize("instrument", ["压力表", "汽车衡"], ids=["gauge", "scale"])
def test_instruments_can_be_verified_and_calibrated(kb: KnowledgeBase, instrument: str) -> None:
    for service_id in ("6.1.2", "6.1.3"):  # calibration, mandatory verification
        found = [
            i for i in kb.institutions_for(service_id) if instrument in _products(i, service_id)
        ]
        assert len(found) >= 2, (instrument, service_id)


def test_institutions_span_wuxi_and_jiangyin(kb: KnowledgeBase) -> None:
    regions = {i.region for i in kb.institutions}
    assert any(r.startswith("江阴市") for r in regions)
    assert any(r.startswith("无锡市") for r in regions)
    assert len(regions) >= 10


def test_contacts_reach_nobody(kb: KnowledgeBase) -> None:
    reachable: list[Institution | Station] = [*kb.institutions, *kb.stations]
    for item in reachable:
        assert item.contact.phone.startswith("0510-0000 "), item.id
        assert item.contact.phone.endswith("（示例）"), item.id
        assert item.contact.email is None or item.contact.email.endswith("example.com")


def test_search_text_and_summary(kb: KnowledgeBase) -> None:
    for item in kb.entries():
        text = item.search_text()
        assert item.title in text
        assert item.id not in text, item.id
        summary = item.summary()
        assert summary and "\n" not in summary and len(summary) <= 80
    cable = kb.get("inst-yuancheng-cable-lab")
    assert cable is not None
    assert {"导体电阻", "GB/T 12706", "江阴市高新区"} <= set(
        cable.search_text().replace("、", "；").split("；")
    )


def test_get_published_and_lookups(kb: KnowledgeBase) -> None:
    assert kb.get("no-such-id") is None
    assert "5.2b4" in kb
    assert [e.kind for e in kb.published("faq")] == ["faq"] * len(kb.faqs)
    assert len(kb.published()) == len(kb)
    assert {s.id for s in kb.stations_for("5.3c")}
    draft = kb.services[0].model_copy(update={"status": "draft"})
    partial = KnowledgeBase.from_entries([draft, *kb.services[1:]])
    assert draft.id not in {e.id for e in partial.published("service")}


def test_parse_entry_rejects_bad_data() -> None:
    assert isinstance(parse_entry(_service()), Service)
    for bad in (
        _service(title="  "),
        _service(kind="widget"),
        _service(domain="cooking"),
        _service(example_queries=["只有一条"]),
        _service(colour="red"),
    ):
        with pytest.raises(ValidationError):
            parse_entry(bad)


def test_load_uses_the_c_yaml_parser() -> None:
    # What keeps loading the 198 seed entries at ~0.04 s (a timed assertion failed on a busy
    # machine): the libyaml parser, ten times the pure-Python one.
    import yaml

    from knowledge import store

    assert hasattr(yaml, "CSafeLoader"), "PyYAML without libyaml: loading is ~10x slower"
    assert store._Loader is yaml.CSafeLoader


def test_content_hash_is_stable_and_format_independent(
    kb: KnowledgeBase, data_copy: Path, edit_yaml: Callable[..., None]
) -> None:
    assert load_knowledge().content_hash() == kb.content_hash()
    for name in ("services.yaml", "institutions.yaml", "stations.yaml", "faqs.yaml"):
        edit_yaml(name, lambda doc: None)  # re-dump: no anchors, other quoting and layout
    copied = (data_copy / "services.yaml").read_text("utf-8")
    assert copied != (DATA_DIR / "services.yaml").read_text("utf-8")
    assert load_knowledge(data_copy).content_hash() == kb.content_hash()


def test_content_hash_changes_when_an_entry_changes(
    kb: KnowledgeBase, data_copy: Path, edit_yaml: Callable[..., None]
) -> None:
    def touch(doc: dict[str, Any]) -> None:
        doc["entries"][0]["title"] += "（修订）"

    edit_yaml("faqs.yaml", touch)
    assert load_knowledge(data_copy).content_hash() != kb.content_hash()


def test_load_refuses_broken_data(data_copy: Path) -> None:
    (data_copy / "extra.yaml").write_text(
        yaml.safe_dump({"kind": "faq", "entries": [{"id": "faq-x", "title": ""}]}), "utf-8"
    )
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(data_copy)
    assert all(p.file == "extra.yaml" for p in caught.value.problems)
    assert any("标题（title）不能为空" in p.reason for p in caught.value.problems)
