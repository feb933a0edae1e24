"""Entries on a withdrawn source are marked for review and withheld; overdue ones are listed."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from knowledge.__main__ import main
from knowledge.review import review_item, review_queue
from knowledge.schema import SourceRef
from knowledge.store import load_knowledge

TODAY = date(2026, 11, 23)
OLD_9001 = SourceRef(
    code="GB/T 19001-2008",
    title="质量管理体系 要求",
    effective=date(2009, 3, 1),
    withdrawn=date(2017, 7, 1),
)


def test_a_withdrawn_source_puts_the_entry_under_review() -> None:
    faq = load_knowledge().faqs[0]
    stale = faq.model_copy(update={"sources": [*faq.sources, OLD_9001]})
    assert not faq.under_review(TODAY) and stale.under_review(TODAY)
    assert stale.withdrawn_sources(TODAY) == [OLD_9001]
    assert not stale.under_review(date(2017, 6, 30))  # not yet withdrawn then
    item = review_item(stale, TODAY)
    assert item is not None and item.withheld
    assert item.reasons == ("引用的 GB/T 19001-2008《质量管理体系 要求》已于 2017-07-01 废止",)
    assert "（暂停检索服务）" in item.line()


def test_overdue_review_is_listed_but_still_served() -> None:
    faq = load_knowledge().faqs[0]
    overdue = faq.model_copy(update={"review_due": date(2026, 1, 1)})
    item = review_item(overdue, TODAY)
    assert item is not None and not item.withheld
    assert item.reasons == ("复审到期（2026-01-01）",)
    assert review_item(faq, TODAY) is None


def test_queue_puts_withheld_entries_first_and_filters_by_owner() -> None:
    knowledge = load_knowledge()
    service, faq = knowledge.services[0], knowledge.faqs[0]
    entries = [
        faq.model_copy(update={"review_due": date(2026, 1, 1)}),
        service.model_copy(update={"sources": [OLD_9001]}),
    ]
    queue = review_queue(entries, TODAY)
    assert [i.entry_id for i in queue] == [service.id, faq.id]
    assert [i.entry_id for i in review_queue(entries, TODAY, owner=faq.owner)] == [faq.id]
    assert review_queue(knowledge.entries(), TODAY) == []  # the seed is up to date


def test_review_command_lists_the_queue(
    data_copy: Path, edit_yaml: object, capsys: pytest.CaptureFixture[str]
) -> None:
    def withdraw(doc: dict[str, object]) -> None:
        entries = doc["entries"]
        assert isinstance(entries, list)
        entries[0]["sources"] = [
            {"code": "JJG 52-1999", "title": "弹簧管式一般压力表", "withdrawn": "2014-01-01"}
        ]
        entries[0]["review_due"] = "2026-11-01"

    edit_yaml("services.yaml", withdraw)  # type: ignore[operator]
    assert main(["review", "--root", str(data_copy), "--today", TODAY.isoformat()]) == 0
    out = capsys.readouterr().out
    assert "6.1.1" in out and "JJG 52-1999" in out and "（暂停检索服务）" in out
    assert "待复审 1 条，其中暂停检索服务 1 条" in out
