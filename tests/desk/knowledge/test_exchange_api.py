"""Import of XLSX/CSV in the page: preview with every bad row, all or nothing; export of a
filtered list that imports back unchanged."""

import io

from fastapi.testclient import TestClient
from openpyxl import Workbook, load_workbook

from knowledge.store import load_knowledge

URL = "/api/knowledge"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _export(client: TestClient, headers: dict[str, str], **params: str) -> bytes:
    response = client.get(f"{URL}/export", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.content


def _upload(
    client: TestClient, headers: dict[str, str], name: str, content: bytes, *, commit: bool
) -> dict:  # type: ignore[type-arg]
    response = client.post(
        f"{URL}/import",
        headers=headers,
        params={"commit": commit},
        files={"file": (name, content, XLSX)},
    )
    assert response.status_code == 200, response.text
    data: dict = response.json()  # type: ignore[type-arg]
    return data


def _rewrite(content: bytes, changes: dict[int, dict[str, str]]) -> bytes:
    """The workbook with cells changed: {row: {header: value}}."""
    book = load_workbook(io.BytesIO(content))
    sheet = book.active
    assert sheet is not None
    headers = [c.value for c in sheet[1]]
    for row, cells in changes.items():
        for header, value in cells.items():
            sheet.cell(row=row, column=headers.index(header) + 1, value=value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_bad_row_imports_nothing_then_a_good_file_does(
    kclient: TestClient, staff: dict[str, str]
) -> None:
    exported = _export(kclient, staff, kind="faq", q="注册")
    rows = list(load_workbook(io.BytesIO(exported)).active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert rows[0][:3] == ("类别", "编号", "标题") and len(rows) > 2
    first_id, second_id = str(rows[1][1]), str(rows[2][1])
    unchanged = _upload(kclient, staff, "faq.xlsx", exported, commit=True)
    assert (unchanged["errors"], unchanged["updated"], unchanged["committed"]) == ([], [], False)
    assert len(unchanged["unchanged"]) == len(rows) - 1

    bad = _rewrite(
        exported, {2: {"答案": "新的答案：线上注册后一个工作日内审核。"}, 3: {"答案": ""}}
    )
    preview = _upload(kclient, staff, "faq.xlsx", bad, commit=False)
    assert preview["committed"] is False and preview["updated"] == [first_id]
    assert preview["errors"] == [
        {
            "line": 3,
            "entry_id": second_id,
            "reason": "缺少字段 答案（answer）",
            "text": f"第 3 行（{second_id}）：缺少字段 答案（answer）",
        }
    ]
    refused = _upload(kclient, staff, "faq.xlsx", bad, commit=True)
    assert refused["committed"] is False and refused["errors"]
    entry = kclient.get(f"{URL}/entries/{first_id}", headers=staff).json()
    assert entry["version"] == 1  # nothing imported

    good = _rewrite(exported, {2: {"答案": "新的答案：线上注册后一个工作日内审核。"}})
    done = _upload(kclient, staff, "faq.xlsx", good, commit=True)
    assert (done["committed"], done["updated"], done["errors"]) == (True, [first_id], [])
    entry = kclient.get(f"{URL}/entries/{first_id}", headers=staff).json()
    assert (entry["version"], entry["pending"]) == (2, True)
    assert entry["payload"]["answer"] == "新的答案：线上注册后一个工作日内审核。"
    history = kclient.get(f"{URL}/entries/{first_id}/history", headers=staff).json()["items"]
    assert (history[0]["action"], history[0]["note"]) == ("import", "faq.xlsx")
    again = _upload(kclient, staff, "faq.xlsx", good, commit=True)  # a second click
    assert again["committed"] is False and again["updated"] == []


def test_csv_export_of_a_filtered_list_and_a_new_entry(
    kclient: TestClient, staff: dict[str, str]
) -> None:
    csv_bytes = _export(kclient, staff, kind="institution", region="江阴", format="csv")
    text = csv_bytes.decode("utf-8-sig")
    lines = [line for line in text.splitlines() if line.startswith("institution,")]
    jiangyin = [i for i in load_knowledge().institutions if "江阴" in i.region]
    assert len(lines) == len(jiangyin)

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["类别", "编号", "标题", "负责人", "复审日期", "问法变体", "答案"])
    sheet.append(
        [
            "faq",
            "faq-import-parking",
            "停车方便吗？",
            "平台运营组",
            "2027-06-30",
            "",
            "服务大厅设有访客车位。",
        ]
    )
    out = io.BytesIO()
    book.save(out)
    done = _upload(kclient, staff, "new.xlsx", out.getvalue(), commit=True)
    assert (done["committed"], done["created"]) == (True, ["faq-import-parking"])
    created = kclient.get(f"{URL}/entries/faq-import-parking", headers=staff).json()
    assert (created["version"], created["status"], created["pending"]) == (1, "published", True)

    wrong = kclient.post(
        f"{URL}/import", headers=staff, files={"file": ("notes.txt", b"hello", "text/plain")}
    )
    assert wrong.status_code == 422 and wrong.json()["detail"]["code"] == "format_unsupported"
