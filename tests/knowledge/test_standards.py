"""The standards table (§6.2.2): schema rules, validity by date, lookup by code, validation,
and CSV/XLSX round trips like the other kinds."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from knowledge.exchange import export_entries, import_file
from knowledge.schema import Standard, parse_entry
from knowledge.store import load_knowledge
from knowledge.tabular import columns
from knowledge.validate import validate

TODAY = date(2026, 11, 23)
BASE: dict[str, Any] = {
    "kind": "standard",
    "id": "std-test",
    "code": "GB/T 1-2020",
    "title": "标准化工作导则 第1部分：标准化文件的结构和起草规则",
    "validity": "现行",
    "owner": "标准化服务组",
    "review_due": "2027-06-30",
}


def test_the_sample_holds_the_common_standards_and_validates() -> None:
    knowledge = load_knowledge()
    codes = {s.code for s in knowledge.standards}
    for code in ("GB/T 19001-2016", "GB/T 24001-2016", "GB/T 45001-2020", "GB/T 27025-2019",
                 "GB/T 19022-2003", "GB 4706.1-2005", "GB/T 2828.1-2012", "GB/T 3048.4-2007",
                 "JJF 1069-2012"):  # fmt: skip
        assert code in codes
    report = validate(today=TODAY)
    assert report.ok, report.errors
    assert report.counts["standard"] == len(knowledge.standards)
    old = knowledge.standard("GB/T 19001-2008")
    assert old is not None and old.validity == "废止" and old.replaced_by == "GB/T 19001-2016"


@pytest.mark.parametrize(
    "typed", ["GB/T 19001-2016", "gb/t19001-2016", "ＧＢ／Ｔ　19001—2016", " GB/T 19001 - 2016 "]
)
def test_a_code_is_found_however_it_is_typed(typed: str) -> None:
    found = load_knowledge().standard(typed)
    assert found is not None and found.code == "GB/T 19001-2016"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"validity": "废止"}, "须填写废止日期"),
        ({"validity": "即将实施"}, "须填写实施日期"),
        ({"effective": "2020-01-01", "withdrawn": "2019-01-01"}, "废止日期早于实施日期"),
        ({"replaced_by": "GB/T 1-2020"}, "不能是它自己"),
        ({"validity": "有效"}, "validity"),
    ],
)
def test_inconsistent_rows_are_refused(change: dict[str, Any], reason: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_entry(BASE | change)
    assert reason in str(caught.value)


def test_validity_follows_the_dates() -> None:
    row = parse_entry(BASE | {"validity": "废止", "withdrawn": "2027-01-01"})
    assert isinstance(row, Standard)
    assert row.validity_on(date(2026, 12, 31)) == "现行"
    assert row.validity_on(date(2027, 1, 1)) == "废止"
    coming = parse_entry(BASE | {"validity": "即将实施", "effective": "2027-03-01"})
    assert isinstance(coming, Standard)
    assert coming.validity_on(date(2027, 2, 28)) == "即将实施"
    assert coming.validity_on(date(2027, 3, 1)) == "现行"


def test_validation_finds_a_duplicate_code_and_a_stale_status(
    data_copy: Path, edit_yaml: Callable[[str, Callable[[dict[str, Any]], None]], None]
) -> None:
    def change(doc: dict[str, Any]) -> None:
        doc["entries"].append(doc["entries"][0] | {"id": "std-again", "code": "gb/t 19001-2016"})
        doc["entries"].append(BASE | {"id": "std-stale", "withdrawn": "2020-01-01"})
        doc["entries"].append(BASE | {"id": "wrong-prefix", "code": "GB/T 2-2020"})

    edit_yaml("standards.yaml", change)
    report = validate(data_copy, today=TODAY)
    errors = {(p.entry_id, p.reason) for p in report.errors}
    assert any(i == "std-again" and "重复" in r for i, r in errors)
    assert any(i == "wrong-prefix" and "std-" in r for i, r in errors)
    warnings = {(p.entry_id, p.reason) for p in report.warnings}
    assert any(i == "std-stale" and "今天应为废止" in r for i, r in warnings)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_then_import_gives_the_same_standards(
    data_copy: Path, tmp_path: Path, fmt: str
) -> None:
    knowledge = load_knowledge(data_copy)
    out = tmp_path / f"standards.{fmt}"
    assert export_entries(list(knowledge.entries()), "standard", out) == len(knowledge.standards)
    result = import_file(out, root=data_copy, today=TODAY)
    assert result.ok, result.errors
    assert result.kind == "standard"
    assert not result.created and not result.updated
    assert load_knowledge(data_copy).content_hash() == knowledge.content_hash()


def test_an_imported_row_adds_a_standard_and_a_bad_one_changes_nothing(
    data_copy: Path, tmp_path: Path
) -> None:
    labels = [c.label for c in columns("standard")]
    assert {"标准编号", "标准状态", "实施日期", "废止日期", "代替标准"} <= set(labels)
    row = {
        "类别": "标准", "编号": "std-gbt-1-2020", "标题": BASE["title"], "负责人": "标准化服务组",
        "复审日期": "2027-06-30", "标准编号": "GB/T 1.1-2020", "标准状态": "现行",
        "实施日期": "2020-10-01",
    }  # fmt: skip
    bad = row | {"编号": "std-bad", "标准编号": "GB/T 9-2020", "标准状态": "废止"}
    path = tmp_path / "new.csv"
    for rows, ok in (([row, bad], False), ([row], True)):
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=labels)
            writer.writeheader()
            writer.writerows(rows)
        result = import_file(path, root=data_copy, today=TODAY)
        assert result.ok is ok
        if not ok:
            assert [(e.line, e.entry_id) for e in result.errors] == [(3, "std-bad")]
            assert "须填写废止日期" in result.errors[0].reason
            assert load_knowledge(data_copy).standard("GB/T 1.1-2020") is None
    added = load_knowledge(data_copy).standard("GB/T 1.1-2020")
    assert added is not None and added.effective == date(2020, 10, 1)
