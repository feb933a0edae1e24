"""The search's ``domain`` filter for every kind, and category browsing without query text."""

from datetime import date

import pytest

from knowledge.schema import Faq
from knowledge.store import load_knowledge
from retrieval.search import Filters, entry_domains, get_searcher
from retrieval.settings import RetrievalSettings

KB = load_knowledge()


def test_every_kind_has_its_domains() -> None:
    service = KB.get("6.4.2")
    assert service is not None and entry_domains(service) == ["testing"]
    lab = next(i for i in KB.institutions if any(s.startswith("6.4.") for s in i.service_ids))
    assert "testing" in entry_domains(lab)
    station = KB.stations[0]
    assert set(entry_domains(station)) == {
        "testing",
        "metrology",
        "standardization",
        "certification",
        "other",
    }  # 6.4.x, 6.1.x, 6.2.1, 6.3.1 and the §5.3 modes
    by_id = {f.id: f for f in KB.faqs}
    assert all(entry_domains(f) == ["metrology"] for f in KB.faqs if f.clause == "6.1.2")
    assert entry_domains(by_id["faq-register-how"]) == []  # §7.1: a procedure of no domain


@pytest.mark.parametrize(
    ("clause", "domains"),
    [
        ("6.2.2", ["standardization"]),
        ("6.6", ["ip"]),
        ("6.7.5", ["other"]),
        ("5.3 a)", ["other"]),
        ("7.4.2", []),
        ("附录 A", []),
        (None, []),
    ],
)
def test_faq_domain_comes_from_its_clause(clause: str | None, domains: list[str]) -> None:
    faq = Faq(
        id="faq-x",
        title="问题",
        owner="o",
        review_due="2030-01-01",
        answer="答",
        clause=clause,
    )
    assert faq.domains == domains


@pytest.mark.parametrize("kind", ["service", "institution", "station", "faq"])
def test_domain_filter_keeps_only_that_domain_for_every_kind(
    retrieval_settings: RetrievalSettings, kind: str
) -> None:
    searcher = get_searcher(retrieval_settings)
    query = "电线电缆导体电阻检测"
    unfiltered = searcher.search(query, kind=kind, k=50)
    hits = searcher.search(query, kind=kind, k=50, filters=Filters(domain="testing"))
    assert hits, kind
    assert all("testing" in entry_domains(h.entry) for h in hits)
    outside = [h for h in unfiltered if "testing" not in entry_domains(h.entry)]
    assert outside, f"the {kind} query should also find entries of other domains"
    assert not {h.id for h in outside} & {h.id for h in hits}
    ip = searcher.search(query, kind=kind, k=50, filters=Filters(domain="ip"))
    assert all("ip" in entry_domains(h.entry) for h in ip)
    assert {h.id for h in ip} != {h.id for h in hits}


@pytest.mark.parametrize("kind", ["service", "institution", "station", "faq"])
def test_browsing_a_domain_lists_all_its_entries_without_query(
    retrieval_settings: RetrievalSettings, kind: str
) -> None:
    searcher = get_searcher(retrieval_settings)
    listed = searcher.browse(kind=kind, filters=Filters(domain="metrology"))
    expected = [
        e.id
        for e in KB.published(kind)  # type: ignore[arg-type]
        if "metrology" in entry_domains(e) and not e.under_review(date.today())
    ]
    assert [h.id for h in listed] == expected
    assert expected, kind
    assert all(h.kind == kind for h in listed)


def test_browsing_services_of_each_domain_partitions_the_catalogue(
    retrieval_settings: RetrievalSettings,
) -> None:
    searcher = get_searcher(retrieval_settings)
    seen: list[str] = []
    for domain in ("metrology", "standardization", "certification", "testing", "quality", "ip"):
        ids = [h.id for h in searcher.browse(kind="service", filters=Filters(domain=domain))]
        prefix = {"metrology": "6.1.", "standardization": "6.2.", "certification": "6.3."}.get(
            domain, {"testing": "6.4.", "quality": "6.5.", "ip": "6.6."}.get(domain)
        )
        assert ids and all(i.startswith(str(prefix)) for i in ids)
        seen += ids
    other = [h.id for h in searcher.browse(kind="service", filters=Filters(domain="other"))]
    assert {"6.7.1", "6.7.6", "5.3a"} <= set(other)
    assert len(seen) + len(other) == 34
