"""The desk's demand and complaint boards, on SQLite and PostgreSQL: filters, search, paging,
counts per status, lateness in working days (with a staff holiday), assignment."""

from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.settings import AppSettings
from desk.audit import AuditEntry
from desk.complaints import service as complaints
from desk.complaints.schemas import ComplaintCreate
from desk.db import get_sessionmaker
from desk.demands import service as demands
from desk.demands.schemas import DemandCreate

from .console import make_user
from .staff import staff_headers

BASE = {
    "channel": "web",
    "need_text": "我们有一批电线电缆需要做检测",
    "product": "电线电缆",
    "place": "江阴市周庄镇",
    "contact_name": "张伟",
    "contact_mobile": "13912345678",
    "service_ids": ["6.4.2"],
    "institution_ids": ["inst-cable-1"],
}
MONDAY = date(2026, 11, 2)  # respond due Tue 3 Nov, recommend due Thu 5 Nov
TODAY = date(2026, 11, 10)  # a Tuesday


def _session(settings: AppSettings) -> Any:
    assert settings.database_url
    return get_sessionmaker(settings.database_url)()


def open_demand(settings: AppSettings, n: int, *, on: date = MONDAY, **fields: Any) -> str:
    data = DemandCreate(**(BASE | {"conversation_id": f"web:board-{n:04d}"} | fields))
    with _session(settings) as session:
        demand, _ = demands.create_demand(session, data=data, idempotency_key=None, today=on)
        return demand.number


def open_complaint(settings: AppSettings, *, on: date = MONDAY, **fields: Any) -> str:
    values = {
        "channel": "phone",
        "institution_name": "某检测公司",
        "complaint_type": "attitude",
        "content": "工作人员态度差",
        "contact_mobile": "13800001111",
    } | fields
    with _session(settings) as session:
        complaint, _, _ = complaints.create_complaint(
            session,
            data=ComplaintCreate(**values),
            idempotency_key=None,
            today=on,
            actor="staff",
            institutions=[],
        )
        return complaint.number


@pytest.fixture
def fixed_today(monkeypatch: pytest.MonkeyPatch) -> date:
    for module in ("desk.demands.desk_router", "desk.complaints.desk_router"):
        monkeypatch.setattr(f"{module}.today", lambda: TODAY)
    return TODAY


def board(client: TestClient, headers: dict[str, str], kind: str = "demands", **params: Any):  # type: ignore[no-untyped-def]
    response = client.get(f"/api/desk/{kind}", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_filters_paging_and_counts_per_status(
    client: TestClient, app_settings: AppSettings, fixed_today: date
) -> None:
    staff = staff_headers(client)
    for n in range(23):
        open_demand(app_settings, n)
    metrology = open_demand(app_settings, 100, service_ids=["6.1.2"], place="无锡市新吴区")
    wechat = open_demand(app_settings, 101, channel="wechat", institution_ids=["inst-meter-2"])
    moved = open_demand(app_settings, 102)
    assert (
        client.post(
            f"/api/demands/{moved}/transitions", headers=staff, json={"to": "responded"}
        ).status_code
        == 200
    )

    first = board(client, staff, size=10)
    assert (first["total"], first["page"], first["size"], len(first["items"])) == (26, 1, 10, 10)
    last = board(client, staff, size=10, page=3)
    assert len(last["items"]) == 6
    seen = {
        row["number"] for p in (1, 2, 3) for row in board(client, staff, size=10, page=p)["items"]
    }
    assert len(seen) == 26  # no row twice, none lost across pages
    counts = {c["status"]: c["count"] for c in first["counts"]}
    assert counts["submitted"] == 25 and counts["responded"] == 1 and counts["cancelled"] == 0
    assert [c["label"] for c in first["counts"]][:2] == ["已提交", "已响应"]

    # the status filter narrows the rows; the counts keep showing every status of the filter
    responded = board(client, staff, status="responded")
    assert [r["number"] for r in responded["items"]] == [moved]
    assert {c["status"]: c["count"] for c in responded["counts"]}["submitted"] == 25

    assert [r["number"] for r in board(client, staff, domain="metrology")["items"]] == [metrology]
    assert board(client, staff, domain="testing")["total"] == 25
    assert [r["number"] for r in board(client, staff, region="新吴区")["items"]] == [metrology]
    assert [r["number"] for r in board(client, staff, channel="wechat")["items"]] == [wechat]
    assert [r["number"] for r in board(client, staff, institution="inst-meter-2")["items"]] == [
        wechat
    ]
    both = board(client, staff, domain="testing", channel="wechat")
    assert [r["number"] for r in both["items"]] == [wechat]
    assert {c["status"]: c["count"] for c in both["counts"]}["submitted"] == 1

    bad = client.get("/api/desk/demands", headers=staff, params={"domain": "astrology"})
    assert bad.status_code == 422 and bad.json()["detail"]["code"] == "domain_unknown"
    assert bad.json()["detail"]["message"] == "未知的服务领域。"


def test_search_by_number_enterprise_and_phone_masked_for_experts(
    client: TestClient, app_settings: AppSettings, fixed_today: date
) -> None:
    staff = staff_headers(client)
    expert = make_user(client, "expert.li", domains=["testing"])
    one = open_demand(app_settings, 1, company_name="江阴某线缆有限公司")
    two = open_demand(app_settings, 2, contact_mobile="13700002222", company_name="无锡精工")

    assert [r["number"] for r in board(client, staff, q=one)["items"]] == [one]
    assert [r["number"] for r in board(client, staff, q="线缆有限")["items"]] == [one]
    found = board(client, staff, q="137 0000-2222")["items"]
    assert [r["number"] for r in found] == [two] and found[0]["contact_mobile"] == "13700002222"

    # an expert sees the board masked and cannot find a demand by a phone number
    assert board(client, expert, q="137 0000-2222")["items"] == []
    [row] = board(client, expert, q="无锡精工")["items"]
    assert row["contact_mobile"] != "13700002222" and "*" in row["contact_mobile"]
    detail = client.get(f"/api/desk/demands/{two}", headers=expert).json()
    assert "13700002222" not in str(detail)
    assert (
        client.put(
            f"/api/desk/demands/{two}/assignee", headers=expert, json={"assignee": "expert.li"}
        ).status_code
        == 403
    )


def test_overdue_rows_carry_working_days_late_and_a_holiday_counts_out(
    client: TestClient, app_settings: AppSettings, fixed_today: date
) -> None:
    staff = staff_headers(client)
    late = open_demand(app_settings, 1)  # due Tue 3 Nov (respond)
    fresh = open_demand(app_settings, 2, on=date(2026, 11, 9))  # respond due Tue 10 Nov
    overdue = board(client, staff, overdue="true")
    [row] = overdue["items"]
    assert row["number"] == late and row["overdue"] is True
    # Wed 4, Thu 5, Fri 6, Mon 9, Tue 10 November: five working days past the 3rd
    assert row["overdue_days"] == 5
    rows = {r["number"]: r for r in board(client, staff)["items"]}
    assert rows[fresh]["overdue"] is False and rows[fresh]["overdue_days"] is None

    # staff declare Monday 9 November a holiday: one working day fewer late
    put = client.put("/api/calendar/days/2026-11-09", headers=staff, json={"working": False})
    assert put.status_code == 200
    assert board(client, staff, overdue="true")["items"][0]["overdue_days"] == 4

    complaint = open_complaint(app_settings, on=date(2026, 10, 26))  # 7 working days: 4 Nov
    [crow] = board(client, staff, "complaints", overdue="true")["items"]
    # Thu 5, Fri 6, Tue 10 November (Monday the 9th is now a holiday)
    assert crow["number"] == complaint and crow["overdue"] and crow["overdue_days"] == 3


def test_complaint_board_filters_search_and_counts(
    client: TestClient, app_settings: AppSettings, fixed_today: date
) -> None:
    staff = staff_headers(client)
    letter = open_complaint(app_settings, channel="letter", institution_name="锡城计量所")
    phone = open_complaint(app_settings, contact_mobile="13600003333")
    assert (
        client.post(
            f"/api/complaints/{phone}/transitions", headers=staff, json={"to": "investigating"}
        ).status_code
        == 200
    )
    everything = board(client, staff, "complaints")
    assert everything["total"] == 2
    counts = {c["status"]: c["count"] for c in everything["counts"]}
    assert (counts["received"], counts["investigating"]) == (1, 1)
    assert [r["number"] for r in board(client, staff, "complaints", channel="letter")["items"]] == [
        letter
    ]
    assert [r["number"] for r in board(client, staff, "complaints", q="锡城")["items"]] == [letter]
    assert [r["number"] for r in board(client, staff, "complaints", q="13600003333")["items"]] == [
        phone
    ]
    investigating = board(client, staff, "complaints", status="investigating")
    assert [r["number"] for r in investigating["items"]] == [phone]
    assert investigating["items"][0]["status_label"] == "调查核实中"


def test_assignment_to_a_staff_member_is_on_the_timeline_and_in_the_audit(
    client: TestClient, app_settings: AppSettings, fixed_today: date
) -> None:
    staff = staff_headers(client)
    make_user(client, "wang.fang", role="staff", display_name="王芳")
    make_user(client, "expert.zhao", domains=["testing"])
    number = open_demand(app_settings, 1)

    put = client.put(
        f"/api/desk/demands/{number}/assignee",
        headers=staff,
        json={"assignee": "wang.fang", "note": "熟悉线缆检测"},
    )
    assert put.status_code == 200, put.text
    assert (put.json()["assignee"], put.json()["assignee_name"]) == ("wang.fang", "王芳")
    assert [r["number"] for r in board(client, staff, assignee="wang.fang")["items"]] == [number]
    assert board(client, staff, assignee="none")["items"] == []

    detail = client.get(f"/api/desk/demands/{number}", headers=staff).json()
    step = detail["timeline"][-1]
    assert (step["actor"], step["note"]) == ("staff.user", "指派给 王芳。熟悉线缆检测")
    assert step["from_status"] == step["to_status"] == "submitted"
    with _session(app_settings) as session:
        entry = session.scalars(
            select(AuditEntry).where(
                AuditEntry.subject == number, AuditEntry.action == "demand.assign"
            )
        ).one()
        assert entry.details == {"from": None, "to": "wang.fang"}

    refused = client.put(
        f"/api/desk/demands/{number}/assignee", headers=staff, json={"assignee": "expert.zhao"}
    )
    assert refused.status_code == 422
    assert refused.json()["detail"] == {
        "code": "assignee_invalid",
        "message": "“expert.zhao”不是在职的工作人员，不能指派。",
    }
    cleared = client.put(f"/api/desk/demands/{number}/assignee", headers=staff, json={})
    assert cleared.json()["assignee"] is None
    assert board(client, staff, assignee="none")["total"] == 1

    complaint = open_complaint(app_settings)
    put = client.put(
        f"/api/desk/complaints/{complaint}/assignee", headers=staff, json={"assignee": "wang.fang"}
    )
    assert put.status_code == 200 and put.json()["assignee_name"] == "王芳"
    steps = client.get(f"/api/desk/complaints/{complaint}", headers=staff).json()["timeline"]
    assert steps[-1]["note"] == "指派给 王芳。"


def test_assignees_are_the_active_staff_and_admins(client: TestClient) -> None:
    staff = staff_headers(client)
    make_user(client, "wang.fang", role="staff", display_name="王芳")
    expert = make_user(client, "expert.sun", domains=["testing"])
    listed = client.get("/api/desk/assignees", headers=staff)
    assert listed.status_code == 200
    assert {a["username"] for a in listed.json()} == {"admin", "staff.user", "wang.fang"}
    assert client.get("/api/desk/assignees", headers=expert).status_code == 403


def test_lateness_counts_working_days_once_and_says_unknown_past_the_calendar() -> None:
    from desk.boards import Lateness
    from desk.sla import WorkingCalendar

    calendar = WorkingCalendar(overrides={date(2026, 11, 9): False})
    late = Lateness(calendar, TODAY, [date(2026, 11, 3), date(2026, 11, 6)])
    assert (late(date(2026, 11, 3)), late(date(2026, 11, 6)), late(TODAY)) == (4, 1, 0)
    # 2027 is not in chinesecalendar yet: unknown until staff complete that year's table
    new_year = date(2027, 1, 5)
    assert Lateness(WorkingCalendar(), new_year, [date(2026, 12, 28)])(date(2026, 12, 28)) is None
    complete = WorkingCalendar(complete_years=frozenset({2027}))
    assert Lateness(complete, new_year, [date(2026, 12, 28)])(date(2026, 12, 28)) is not None
