"""The improvement loop (§8.1.3, §8.2) through the API on SQLite and PostgreSQL: a dissatisfied
evaluation or an upheld complaint opens exactly one item, which is planned, worked, re-checked
and closed only with evidence; overdue in working days; the annual summary says what was done;
the public results need no login and hold no personal data."""

import json
from datetime import date
from io import BytesIO
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select, update

from app.settings import AppSettings
from desk.audit import AuditEntry
from desk.clock import today
from desk.db import get_sessionmaker
from desk.improvements.models import ImprovementItem

from .reports_data import INSTITUTION
from .staff import staff_headers

DONE = [
    {"to": "responded"},
    {"to": "recommended", "institution_ids": [INSTITUTION]},
    {"to": "matched", "chosen_institution_id": INSTITUTION},
    {"to": "in_service"},
    {"to": "completed"},
]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


class Desk:
    def __init__(self, client: TestClient, bot: dict[str, str], settings: AppSettings) -> None:
        self.client, self.bot, self.staff = client, bot, staff_headers(client)
        assert settings.database_url
        self.sessions = get_sessionmaker(settings.database_url)
        self.count = 0

    def evaluated(self, scores: tuple[int, int, int, int], comment: str = "") -> str:
        self.count += 1
        conversation = f"web:improve-{self.count:03d}"
        created = self.client.post(
            "/api/demands",
            headers=self.bot,
            json={
                "conversation_id": conversation,
                "need_text": "压力表校准",
                "product": "压力表",
                "place": "江阴市澄江街道",
                "contact_name": "张伟",
                "contact_mobile": "13912345678",
                "service_ids": ["6.1.2"],
            },
        )
        assert created.status_code == 201, created.text
        number = str(created.json()["number"])
        for step in DONE:
            moved = self.client.post(
                f"/api/demands/{number}/transitions", json=step, headers=self.staff
            )
            assert moved.status_code == 200, moved.text
        names = ("process_score", "efficiency_score", "attitude_score", "overall_score")
        given = self.client.post(
            f"/api/demands/{number}/evaluation",
            json={**dict(zip(names, scores, strict=True)), "comment": comment},
            params={"conversation_id": conversation},
            headers=self.bot,
        )
        assert given.status_code == 201, given.text
        return number

    def complaint(self, *, upheld: bool) -> str:
        created = self.client.post(
            "/api/complaints",
            headers=self.staff,
            json={
                "channel": "电话",
                "institution_name": "某检测公司",
                "complaint_type": "服务态度",
                "content": "接待人员态度生硬",
                "contact_mobile": "13912345678",
            },
        )
        assert created.status_code == 201, created.text
        number = str(created.json()["number"])
        for step in (
            {"to": "investigating"},
            {"to": "forwarded"},
            {"to": "resolved", "resolution": "已约谈机构负责人", "upheld": upheld},
        ):
            moved = self.client.post(
                f"/api/complaints/{number}/transitions", json=step, headers=self.staff
            )
            assert moved.status_code == 200, moved.text
        return number

    def items(self, **params: Any) -> dict[str, Any]:
        listed = self.client.get("/api/improvements", params=params, headers=self.staff)
        assert listed.status_code == 200, listed.text
        return dict(listed.json())

    def move(self, number: str, **body: Any) -> Any:
        return self.client.post(
            f"/api/improvements/{number}/transitions", json=body, headers=self.staff
        )

    def count_items(self) -> int:
        with self.sessions() as session:
            return session.scalar(select(func.count()).select_from(ImprovementItem)) or 0


@pytest.fixture
def desk(client: TestClient, service_headers: dict[str, str], app_settings: AppSettings) -> Desk:
    return Desk(client, service_headers, app_settings)


def test_a_dissatisfied_evaluation_opens_exactly_one_item(desk: Desk) -> None:
    satisfied = desk.evaluated((3, 3, 4, 3))  # 3 一般 is not dissatisfied
    assert desk.count_items() == 0
    number = desk.evaluated((4, 2, 5, 4), comment="等了一周才有人联系，电话13912345678")
    listed = desk.items()
    assert listed["total"] == 1 and listed["counts"]["open"] == 1
    [item] = listed["items"]
    assert (item["source"], item["source_number"], item["status"]) == (
        "evaluation",
        number,
        "open",
    )
    assert item["source_label"] == "不满意评价"
    assert "效率 2 分" in item["problem"] and "流程" not in item["problem"]
    assert item["institution_id"] == INSTITUTION and item["domain"] == "metrology"
    # evaluating again is refused and opens nothing more
    again = desk.client.post(
        f"/api/demands/{number}/evaluation",
        json={"process_score": 1, "efficiency_score": 1, "attitude_score": 1, "overall_score": 1},
        params={"conversation_id": "web:improve-002"},
        headers=desk.bot,
    )
    assert again.status_code == 409
    assert desk.count_items() == 1
    detail = desk.client.get(f"/api/improvements/{item['number']}", headers=desk.staff).json()
    assert [s["to_status"] for s in detail["timeline"]] == ["open"]
    assert number in detail["timeline"][0]["note"]
    with desk.sessions() as session:
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.subject == item["number"])
        ).all()
    assert actions == ["improvement.create"]
    assert satisfied != number


def test_an_upheld_complaint_opens_one_item_a_rejected_one_none(desk: Desk) -> None:
    desk.complaint(upheld=False)
    assert desk.count_items() == 0
    number = desk.complaint(upheld=True)
    [item] = desk.items(source="complaint")["items"]
    assert item["source_number"] == number and item["source_label"] == "投诉成立"
    assert "已约谈机构负责人" in item["problem"]


def test_an_item_is_worked_to_closed_only_with_evidence(desk: Desk, client: TestClient) -> None:
    desk.evaluated((2, 2, 2, 2))
    number = desk.items()["items"][0]["number"]
    url = f"/api/improvements/{number}"

    refused = desk.move(number, to="in_progress")
    assert refused.status_code == 422
    assert refused.json()["detail"]["message"] == "开始整改前请填写原因分析。"
    assert desk.move(number, to="closed").status_code == 409  # not from open

    bad_owner = client.put(f"{url}/plan", json={"owner": "nobody"}, headers=desk.staff)
    assert bad_owner.status_code == 422
    assert bad_owner.json()["detail"]["code"] == "owner_invalid"
    planned = client.put(
        f"{url}/plan",
        json={"cause": "响应环节无人值守", "action": "增设值班表并每日核对", "owner": "staff.user"},
        headers=desk.staff,
    )
    assert planned.status_code == 200, planned.text
    assert planned.json()["owner_name"] == "staff.user"

    assert desk.move(number, to="in_progress", note="开始整改").status_code == 200
    no_recheck = desk.move(number, to="rechecked")
    assert no_recheck.json()["detail"]["code"] == "recheck_note_required"
    rechecked = desk.move(number, to="rechecked", recheck_note="抽查两周值班记录，均有人响应")
    assert rechecked.status_code == 200

    no_evidence = desk.move(number, to="closed")
    assert no_evidence.status_code == 422
    assert no_evidence.json()["detail"]["message"] == "关闭前请填写整改证据（可另附文件）。"

    text = client.post(
        f"{url}/files", files={"file": ("note.txt", b"hello", "text/plain")}, headers=desk.staff
    )
    assert text.status_code == 415
    uploaded = client.post(
        f"{url}/files", files={"file": ("值班表.png", PNG, "image/png")}, headers=desk.staff
    )
    assert uploaded.status_code == 201, uploaded.text
    file_id = uploaded.json()["id"]
    content = client.get(f"{url}/files/{file_id}/content", headers=desk.staff)
    assert content.status_code == 200 and content.content == PNG

    closed = desk.move(number, to="closed", evidence="值班表已上墙，见附件")
    assert closed.status_code == 200, closed.text
    body = closed.json()
    assert body["status"] == "closed" and body["closed_at"] and not body["overdue"]
    assert [f["original_name"] for f in body["files"]] == ["值班表.png"]
    assert [s["to_status"] for s in body["timeline"]] == [
        "open",
        "open",
        "in_progress",
        "rechecked",
        "rechecked",
        "closed",
    ]
    assert "整改证据：值班表已上墙" in body["timeline"][-1]["note"]
    on = today().isoformat()
    exported = client.get(
        "/api/reports/export/improvements", params={"from": on, "to": on}, headers=desk.staff
    )
    sheet = load_workbook(BytesIO(exported.content))["改进事项"]
    header = [c.value for c in sheet[3]]
    [row] = list(sheet.iter_rows(min_row=4, values_only=True))
    assert row[0] == number and row[header.index("状态")] == "已关闭"
    assert row[header.index("整改证据")] == "值班表已上墙，见附件"
    assert row[header.index("责任人")] == "staff.user"
    assert client.put(f"{url}/plan", json={"cause": "x"}, headers=desk.staff).status_code == 409
    assert desk.move(number, to="in_progress", note="再查").status_code == 409


def test_a_failed_recheck_sends_the_item_back(desk: Desk, client: TestClient) -> None:
    desk.evaluated((1, 5, 5, 3))
    number = desk.items()["items"][0]["number"]
    plan = {"cause": "流程说明不清", "action": "重写办事指南", "owner": "staff.user"}
    assert desk.move(number, to="in_progress", **plan).status_code == 200
    assert desk.move(number, to="rechecked", recheck_note="指南仍缺材料清单").status_code == 200
    assert desk.move(number, to="in_progress").json()["detail"]["code"] == "note_required"
    back = desk.move(number, to="in_progress", note="复查未通过：补材料清单")
    assert back.status_code == 200 and back.json()["status"] == "in_progress"


def test_overdue_in_working_days_across_the_holiday(
    desk: Desk, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk.evaluated((2, 4, 4, 4))
    number = desk.items()["items"][0]["number"]
    with desk.sessions() as session:
        session.execute(
            update(ImprovementItem)
            .where(ImprovementItem.number == number)
            .values(due_on=date(2025, 9, 30), opened_on=date(2025, 9, 16))
        )
        session.commit()
    import desk.improvements.router as improvements_router

    monkeypatch.setattr(improvements_router, "today", lambda: date(2025, 10, 10))
    listed = desk.items(overdue="true")
    assert listed["overdue"] == 1 and listed["total"] == 1
    [item] = listed["items"]
    # 1–8 October are holidays: 9 and 10 October are the working days past the due day
    assert item["overdue"] and item["overdue_days"] == 2
    monkeypatch.setattr(improvements_router, "today", lambda: date(2025, 9, 30))
    assert desk.items(overdue="true")["total"] == 0


def test_improvements_are_for_staff_only(desk: Desk, client: TestClient) -> None:
    assert client.get("/api/improvements").status_code == 401
    assert client.get("/api/improvements", headers=desk.bot).status_code == 403
    expert = staff_headers(client, role="expert")
    assert client.get("/api/improvements", headers=expert).status_code == 403
    assert client.get("/api/improvements/GJ0", headers=desk.staff).status_code == 404


def test_the_annual_summary_says_what_was_done(desk: Desk, client: TestClient) -> None:
    number = desk.evaluated((2, 3, 3, 3), comment="流程太繁琐")
    desk.evaluated((5, 5, 5, 5))
    desk.complaint(upheld=True)
    item = desk.items(source="evaluation")["items"][0]["number"]
    plan = {"cause": "材料重复提交", "action": "材料一次告知", "owner": "staff.user"}
    assert desk.move(item, to="in_progress", **plan).status_code == 200
    year = today().year
    summary = client.get(f"/api/reports/annual/{year}", headers=desk.staff).json()
    [low] = summary["dissatisfied"]
    assert (low["demand_number"], low["process"], low["comment"]) == (number, 2, "流程太繁琐")
    assert low["improvement"]["action"] == "材料一次告知"
    assert low["improvement"]["status_label"] == "整改中"
    assert summary["dissatisfied_share"] == 0.5
    assert len(summary["upheld_complaints"]) == 1
    assert summary["improvements"] == {
        "opened": 2,
        "closed": 0,
        "closed_on_time": 0,
        "still_open": 2,
        "overdue": 0,
    }
    exported = client.get(f"/api/reports/annual/{year}/export", headers=desk.staff)
    book = load_workbook(BytesIO(exported.content))
    sheet = book["不满意评价及整改"]
    rows = list(sheet.iter_rows(min_row=4, values_only=True))
    header = [c.value for c in sheet[3]]
    assert len(rows) == 1 and rows[0][0] == number
    assert rows[0][header.index("整改措施")] == "材料一次告知"
    assert client.get(f"/api/reports/annual/{year}").status_code == 401


def test_public_results_need_no_login_and_hold_no_personal_data(
    desk: Desk, client: TestClient
) -> None:
    for scores in ((5, 4, 5, 5), (4, 4, 4, 4), (1, 2, 3, 2)):
        desk.evaluated(scores, comment="联系人张伟 13912345678")
    response = client.get("/api/public/evaluation-results")  # no Authorization header
    assert response.status_code == 200, response.text
    results = response.json()
    text = json.dumps(results, ensure_ascii=False)
    for personal in ("张伟", "13912345678", "139****5678", "XQ", "web:improve", "联系人"):
        assert personal not in text
    total = results["total"]
    assert total["evaluations"] == 3
    assert total["process"] == round((5 + 4 + 1) / 3, 2)
    assert total["satisfied_rate"] == round(2 / 3, 4)
    quarter = (today().month - 1) // 3 + 1
    this = {p["key"]: p for p in results["periods"]}[f"{today().year}-Q{quarter}"]
    assert this["evaluations"] == 3
    [institution] = results["institutions"]  # three evaluations: just enough to be listed
    assert institution["evaluations"] == 3 and institution["title"] != INSTITUTION
    future = client.get("/api/public/evaluation-results", params={"year": today().year + 1})
    assert future.status_code == 422


def test_an_institution_with_too_few_evaluations_is_not_listed(
    desk: Desk, client: TestClient
) -> None:
    desk.evaluated((5, 5, 5, 5))
    desk.evaluated((4, 4, 4, 4))
    results = client.get("/api/public/evaluation-results").json()
    assert results["total"]["evaluations"] == 2 and results["institutions"] == []
