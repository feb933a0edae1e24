"""Import/export of CSV and XLSX: round trips, and bad files that change nothing."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

from knowledge.__main__ import main
from knowledge.exchange import ExchangeError, export_entries, import_file, read_rows
from knowledge.schema import Faq
from knowledge.store import load_knowledge
from knowledge.tabular import columns, decode

TODAY = date(2026, 11, 23)
FILES = {
    "service": "services.yaml",
    "institution": "institutions.yaml",
    "station": "stations.yaml",
    "faq": "faqs.yaml",
}


def _snapshot(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(root.iterdir())}


def _export(root: Path, kind: str, out: Path) -> Path:
    assert (
        main(
            [
                "export",
                "--root",
                str(root),
                "--kind",
                kind,
                "--format",
                out.suffix[1:],
                "--out",
                str(out),
            ]
        )
        == 0
    )
    return out


def _header(kind: str) -> list[str]:
    return [c.label for c in columns(kind)]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("kind", list(FILES))
def test_export_then_import_gives_the_same_knowledge(
    data_copy: Path, tmp_path: Path, kind: str, fmt: str
) -> None:
    before = load_knowledge(data_copy).content_hash()
    exported = _export(data_copy, kind, tmp_path / f"{kind}.{fmt}")
    # Empty the kind's file, so every entry has to come back from the spreadsheet.
    path = data_copy / FILES[kind]
    head = path.read_text("utf-8").partition("\nentries:")[0]
    path.write_text(head + "\nentries: []\n", "utf-8")

    result = import_file(exported, root=data_copy, today=TODAY)

    assert result.ok and result.written, [str(p) for p in result.errors]
    assert len(result.created) == load_knowledge().counts()[kind]
    assert load_knowledge(data_copy).content_hash() == before
    assert path.read_text("utf-8").startswith(head)  # the file's comments are kept


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_reimporting_an_export_changes_no_byte(data_copy: Path, tmp_path: Path, fmt: str) -> None:
    before = _snapshot(data_copy)
    result = import_file(
        _export(data_copy, "faq", tmp_path / f"faq.{fmt}"), root=data_copy, today=TODAY
    )
    assert result.ok and not result.written
    assert len(result.unchanged) == result.rows == len(load_knowledge().faqs)
    assert _snapshot(data_copy) == before


def test_bad_xlsx_rows_are_all_reported_and_nothing_changes(
    data_copy: Path, tmp_path: Path
) -> None:
    book_path = _export(data_copy, "institution", tmp_path / "institutions.xlsx")
    book = load_workbook(book_path)
    sheet = book.worksheets[0]
    col = {cell.value: cell.column for cell in sheet[1]}
    sheet.cell(row=2, column=col["评分"]).value = "4.1"  # a good change that must not land
    sheet.cell(row=4, column=col["区域"]).value = "上海市浦东新区"
    sheet.cell(row=5, column=col["评分"]).value = "很好"
    sheet.cell(row=7, column=col["服务能力"]).value = "6.9.9 | 压力表"
    sheet.cell(row=9, column=col["标题"]).value = None
    book.save(book_path)
    before = _snapshot(data_copy)

    result = import_file(book_path, root=data_copy, today=TODAY)

    assert not result.ok and not result.written
    assert sorted(p.line for p in result.errors) == [4, 5, 7, 9]
    reasons = {p.line: p.reason for p in result.errors}
    assert "未知区域 '上海市浦东新区'" in reasons[4]
    assert reasons[5] == "“评分”应为数字：'很好'"
    assert "指向不存在的服务 6.9.9" in reasons[7]
    assert reasons[9] == "缺少字段 标题（title）"
    assert _snapshot(data_copy) == before


def test_cli_reports_every_bad_csv_row_with_its_line(
    data_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _export(data_copy, "faq", tmp_path / "faqs.csv")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    rows[3][header.index("答案")] = ""  # line 4
    rows[5][header.index("编号")] = rows[2][header.index("编号")]  # line 6 repeats line 3
    rows[8][header.index("复审日期")] = "明年"  # line 9
    rows[10][header.index("类别")] = "institution"  # line 11
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows(rows)
    before = _snapshot(data_copy)

    code = main(["import", str(path), "--root", str(data_copy), "--today", TODAY.isoformat()])

    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.startswith("ERROR ")]
    assert code == 1
    assert [line.split("（")[0] for line in lines] == [
        "ERROR 第 4 行",
        "ERROR 第 6 行",
        "ERROR 第 9 行",
        "ERROR 第 11 行",
    ]
    assert "编号与第 3 行重复" in lines[1]
    assert "字段 复审日期（review_due）无效" in lines[2] and "类别应为 faq" in lines[3]
    assert "知识库未做任何修改" in captured.out
    assert _snapshot(data_copy) == before


def test_a_changed_row_bumps_the_version_and_rewrites_only_its_block(
    data_copy: Path, tmp_path: Path
) -> None:
    path = _export(data_copy, "institution", tmp_path / "institutions.csv")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    target = rows[1][header.index("编号")]
    rows[1][header.index("评分")] = "3.9"
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows(rows)
    old_text = (data_copy / "institutions.yaml").read_text("utf-8").splitlines()

    result = import_file(path, root=data_copy, today=TODAY)

    assert result.ok and result.written and result.updated == [target]
    entry = load_knowledge(data_copy).get(target)
    assert entry is not None and entry.version == 2 and getattr(entry, "rating", None) == 3.9
    new_text = (data_copy / "institutions.yaml").read_text("utf-8").splitlines()
    added = [line for line in new_text if line not in old_text]
    assert sorted(line.strip() for line in added) == ["rating: 3.9", "version: 2"]


def test_a_new_row_is_added_to_its_kinds_file(data_copy: Path, tmp_path: Path) -> None:
    path = tmp_path / "new.csv"
    row = {
        "类别": "faq",
        "编号": "faq-test-new",
        "标题": "新问题怎么问？",
        "负责人": "平台运营组",
        "复审日期": "2027-06-30",
        "问法变体": "问法一\n问法二",
        "答案": "这是一个示例答案。",
        "条款": "7.3",
        "依据": "DB3202/T 1063-2024 | 质量基础设施“一站式”服务与建设规范",
    }
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(row))
        writer.writeheader()
        writer.writerow(row)

    result = import_file(path, root=data_copy, today=TODAY)

    assert result.ok and result.created == ["faq-test-new"]
    entry = load_knowledge(data_copy).get("faq-test-new")
    assert isinstance(entry, Faq) and entry.variants == ["问法一", "问法二"]
    assert entry.sources[0].code == "DB3202/T 1063-2024"


def test_unknown_header_and_unknown_format(data_copy: Path, tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    path.write_text(",".join([*_header("faq"), "备注"]) + "\n", "utf-8")
    result = import_file(path, root=data_copy, kind="faq")
    assert [str(p) for p in result.errors] == ["第 1 行：未知的表头 备注"]
    result = import_file(tmp_path / "x.txt", root=data_copy)
    assert "不支持的文件格式 .txt" in str(result.errors[0])


def test_export_refuses_an_item_that_would_not_come_back(tmp_path: Path) -> None:
    faq = load_knowledge().faqs[0]
    broken = faq.model_copy(update={"keywords": ["一行\n两行"]})
    with pytest.raises(ExchangeError, match="含有分隔符"):
        export_entries([broken], "faq", tmp_path / "faq.csv")
    assert not (tmp_path / "faq.csv").exists()


def test_exported_xlsx_keeps_every_cell_as_text(tmp_path: Path) -> None:
    path = export_entries(list(load_knowledge().entries()), "service", tmp_path / "s.xlsx")
    assert path == 34
    headers, rows = read_rows(tmp_path / "s.xlsx")
    assert headers == _header("service")
    assert rows[0][1][1] == "6.1.1"  # not turned into a number


def test_cells_decode_labels_lines_and_parts() -> None:
    raw, errors = decode(
        "institution",
        {
            "id": "inst-x",
            "rating": 4.0,
            "review_due": date(2027, 6, 30),
            "capabilities": "6.4.2 |  | 导体电阻；绝缘厚度 | GB/T 3956\n6.4.1",
            "qualifications": "CMA | 240000000999（示例）",
            "service_modes": "送样\n\n上门 ",
            "sources": "GB/T 1 | 某标准 |  | 2020-01-01",
        },
    )
    assert errors == {}
    assert raw["rating"] == 4.0 and raw["review_due"] == "2027-06-30"
    assert raw["capabilities"] == [
        {
            "service_id": "6.4.2",
            "products": [],
            "items": ["导体电阻", "绝缘厚度"],
            "standards": ["GB/T 3956"],
        },
        {"service_id": "6.4.1", "products": [], "items": [], "standards": []},
    ]
    assert raw["qualifications"] == [{"kind": "CMA", "number": "240000000999（示例）", "scope": []}]
    assert raw["service_modes"] == ["送样", "上门"]
    assert raw["sources"] == [{"code": "GB/T 1", "title": "某标准", "withdrawn": "2020-01-01"}]
    service, _ = decode("service", {"domain": "计量"})
    assert service["domain"] == "metrology"
    _, errors = decode("station", {"sources": "a | b | c | d | e"})
    assert errors == {"sources": "依据“a | b | c | d | e”的分段多于 4 段（用 | 分隔）"}
