"""``python -m knowledge validate``: the seed passes, broken copies fail line by line."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from knowledge.__main__ import main
from knowledge.validate import validate

Doc = dict[str, Any]
Edit = Callable[[str, Callable[[Doc], None]], None]
TODAY = date(2026, 11, 23)


def _entry(doc: Doc, entry_id: str) -> Doc:
    return next(e for e in doc["entries"] if e["id"] == entry_id)


def _error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("ERROR ")]


def test_seed_data_validates(capsys: pytest.CaptureFixture[str]) -> None:
    report = validate(today=TODAY)
    assert report.ok, [str(p) for p in report.problems]
    assert report.problems == []
    assert main(["validate", "--today", TODAY.isoformat()]) == 0
    out = capsys.readouterr().out
    assert "服务事项 34" in out and "校验通过" in out


def test_seed_data_validates_today() -> None:
    assert validate().ok  # only warnings (overdue reviews) may depend on the date


def test_broken_copy_fails_with_one_line_per_problem(
    data_copy: Path, edit_yaml: Edit, capsys: pytest.CaptureFixture[str]
) -> None:
    def break_institutions(doc: Doc) -> None:
        twin = copy.deepcopy(_entry(doc, "inst-ruizhi-ip"))
        doc["entries"].append(twin)  # duplicate id
        _entry(doc, "inst-qinghe-food")["capabilities"][0]["service_id"] = "6.9.9"

    def break_faqs(doc: Doc) -> None:
        _entry(doc, "faq-fees")["title"] = "   "

    edit_yaml("institutions.yaml", break_institutions)
    edit_yaml("faqs.yaml", break_faqs)

    assert main(["validate", "--root", str(data_copy), "--today", TODAY.isoformat()]) == 1
    captured = capsys.readouterr()
    lines = _error_lines(captured.err)
    assert len(lines) == 3, captured.err
    assert (
        "ERROR institutions.yaml: inst-ruizhi-ip: id 重复（已在 institutions.yaml 中出现）" in lines
    )
    assert (
        "ERROR institutions.yaml: inst-qinghe-food: "
        "capabilities[0].service_id 指向不存在的服务 6.9.9" in lines
    )
    assert "ERROR faqs.yaml: faq-fees: 字段 标题（title）不能为空" in lines
    assert "错误 3" in captured.out and "校验未通过" in captured.out


def test_missing_service_and_bad_station_reference(data_copy: Path, edit_yaml: Edit) -> None:
    edit_yaml("services.yaml", lambda doc: doc["entries"].pop())  # drops 5.3d
    edit_yaml("stations.yaml", lambda doc: _entry(doc, "st-huashi")["services"].append("7.1"))
    report = validate(data_copy, today=TODAY)
    reasons = {(p.file, p.entry_id, p.reason) for p in report.errors}
    assert ("-", "5.3d", "缺少服务事项（DESIGN §4 要求的 34 项之一）") in reasons
    assert ("stations.yaml", "st-huashi", "services[5] 指向不存在的服务 7.1") in reasons
    assert ("stations.yaml", "st-chengjiang", "services[8] 指向不存在的服务 5.3d") in reasons


def test_withdrawn_source_must_be_marked_for_review(data_copy: Path, edit_yaml: Edit) -> None:
    withdrawn = {
        "code": "JJF 1069-2007",
        "title": "法定计量检定机构考核规范",
        "effective": date(2007, 4, 1),
        "withdrawn": date(2012, 6, 2),
    }

    def cite_withdrawn(doc: Doc) -> None:
        _entry(doc, "faq-domain-metrology")["sources"].append(withdrawn)
        marked = _entry(doc, "faq-mandatory-vs-calibration")
        marked["sources"].append(withdrawn)
        marked["review_due"] = TODAY

    edit_yaml("faqs.yaml", cite_withdrawn)
    report = validate(data_copy, today=TODAY)
    assert [(p.entry_id, p.reason) for p in report.errors] == [
        (
            "faq-domain-metrology",
            "引用的 JJF 1069-2007《法定计量检定机构考核规范》已于 2012-06-02 废止，"
            "须标记复审（review_due 不晚于今天）",
        )
    ]
    assert [p.entry_id for p in report.warnings] == ["faq-mandatory-vs-calibration"]
    assert "已标记复审" in report.warnings[0].reason


def test_overdue_review_only_warns(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--today", "2030-01-01"]) == 0
    err = capsys.readouterr().err
    assert "WARN services.yaml: 6.1.1: 复审已到期（review_due 2027-06-30）" in err
    assert not _error_lines(err)


def test_sample_contacts_must_be_placeholders(data_copy: Path, edit_yaml: Edit) -> None:
    def real_phone(doc: Doc) -> None:
        _entry(doc, "inst-huashi-metals")["contact"]["phone"] = "0510-12345678"

    edit_yaml("institutions.yaml", real_phone)
    report = validate(data_copy, today=TODAY)
    assert [(p.entry_id, "不是示例号码" in p.reason) for p in report.errors] == [
        ("inst-huashi-metals", True)
    ]
    assert validate(data_copy, today=TODAY, real_data=True).ok


def test_text_and_region_checks(data_copy: Path, edit_yaml: Edit) -> None:
    def bad_text(doc: Doc) -> None:
        _entry(doc, "inst-gushan-textile")["description"] = "Yarn testing lab"
        _entry(doc, "inst-gushan-textile")["region"] = "上海市浦东新区"

    edit_yaml("institutions.yaml", bad_text)
    reasons = [p.reason for p in validate(data_copy, today=TODAY).errors]
    assert reasons == [
        "字段 description 应为中文",
        "未知区域 '上海市浦东新区'（应为无锡市区县或江阴市镇街）",
    ]


def test_unreadable_files_are_reported(data_copy: Path) -> None:
    (data_copy / "broken.yaml").write_text("entries: [\n", "utf-8")
    (data_copy / "odd.yaml").write_text("kind: gadget\nentries:\n  - id: x-1\n", "utf-8")
    report = validate(data_copy, today=TODAY)
    by_file = {p.file: p for p in report.errors}
    assert by_file["broken.yaml"].entry_id == "-"
    assert by_file["broken.yaml"].reason.startswith("无法读取 YAML")
    assert by_file["odd.yaml"].entry_id == "x-1"
    assert by_file["odd.yaml"].reason == "未知的 kind：'gadget'"


def test_missing_root_is_one_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--root", str(tmp_path / "nowhere")]) == 1
    assert _error_lines(capsys.readouterr().err) == [
        f"ERROR {tmp_path / 'nowhere'}: -: 知识库目录不存在"
    ]
