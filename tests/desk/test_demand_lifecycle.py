"""A demand's life on the desk: transitions, timeline, evaluation, overdue, audit."""

from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import update

from app.settings import AppSettings
from desk.audit import entries_for
from desk.db import get_sessionmaker
from desk.demands.models import Demand

from .staff import staff_headers

DEMAND = {
    "conversation_id": "web:lifecycle-0001",
    "need_text": "电线电缆检测",
    "product": "电线电缆",
    "place": "江阴市周庄镇",
    "contact_name": "张伟",
    "contact_mobile": "13912345678",
    "service_ids": ["6.4.2"],
    "institution_ids": ["inst-yuancheng-cable-lab"],
}


def _open(client: TestClient, service_headers: dict[str, str]) -> str:
    response = client.post("/api/demands", json=DEMAND, headers=service_headers)
    assert response.status_code == 201, response.text
    return str(response.json()["number"])


def test_full_life_with_timeline_and_evaluation(
    client: TestClient, service_headers: dict[str, str], app_settings: AppSettings
) -> None:
    number = _open(client, service_headers)
    staff = staff_headers(client)
    steps = [
        {"to": "responded", "note": "已电话联系企业"},
        {
            "to": "recommended",
            "institution_ids": ["inst-yuancheng-cable-lab", "inst-dongting-cable"],
        },
        {"to": "matched", "chosen_institution_id": "inst-yuancheng-cable-lab"},
        {"to": "in_service"},
        {"to": "completed"},
    ]
    for step in steps:
        response = client.post(f"/api/demands/{number}/transitions", json=step, headers=staff)
        assert response.status_code == 200, response.text
    demand = response.json()
    assert demand["status"] == "completed" and demand["status_label"] == "已完成"
    assert demand["chosen_institution_id"] == "inst-yuancheng-cable-lab"
    assert demand["recommended_by"] == "staff"

    evaluation = client.post(
        f"/api/demands/{number}/evaluation",
        params={"conversation_id": DEMAND["conversation_id"]},
        headers=service_headers,
        json={
            "process_score": 5,
            "efficiency_score": 4,
            "attitude_score": 5,
            "overall_score": 5,
            "comment": "检测很及时",
        },
    )
    assert evaluation.status_code == 201, evaluation.text
    again = client.post(
        f"/api/demands/{number}/evaluation",
        params={"conversation_id": DEMAND["conversation_id"]},
        headers=service_headers,
        json={"process_score": 1, "efficiency_score": 1, "attitude_score": 1, "overall_score": 1},
    )
    assert again.status_code == 409  # evaluated once

    steps = client.get(f"/api/demands/{number}/events", headers=staff).json()
    timeline = [e for e in steps if e["from_status"] != e["to_status"]]  # not the notices
    assert [e["to_status"] for e in timeline] == [
        "submitted",
        "responded",
        "recommended",
        "matched",
        "in_service",
        "completed",
        "evaluated",
    ]
    assert timeline[1]["actor"] == "staff.user" and timeline[0]["actor"] == "bot"
    assert [e["to_status_label"] for e in timeline[:2]] == ["已提交", "已响应"]

    assert app_settings.database_url
    with get_sessionmaker(app_settings.database_url)() as session:
        entries = entries_for(session, subject=number)
        assert entries[0].action == "demand.create" and entries[-1].action == "demand.evaluate"
        assert all("13912345678" not in str(e.details) for e in entries)


def test_illegal_transition_is_409_in_chinese(
    client: TestClient, service_headers: dict[str, str]
) -> None:
    number = _open(client, service_headers)
    response = client.post(
        f"/api/demands/{number}/transitions",
        json={"to": "completed"},
        headers=staff_headers(client),
    )
    assert response.status_code == 409
    assert "不能变更为“已完成”" in response.json()["detail"]["message"]


def test_roles_and_privacy(client: TestClient, service_headers: dict[str, str]) -> None:
    number = _open(client, service_headers)
    expert = staff_headers(client, role="expert")
    assert (
        client.post(
            f"/api/demands/{number}/transitions", json={"to": "responded"}, headers=expert
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"/api/demands/{number}/transitions", json={"to": "responded"}, headers=service_headers
        ).status_code
        == 403
    )
    # the bot sees a demand only for the conversation that opened it
    assert client.get("/api/demands", headers=service_headers).status_code == 403
    other = client.get(
        f"/api/demands/{number}",
        params={"conversation_id": "web:someone-else"},
        headers=service_headers,
    )
    assert other.status_code == 404


def test_overdue_demands_are_flagged_and_listed(
    client: TestClient, service_headers: dict[str, str], app_settings: AppSettings
) -> None:
    late, on_time = _open(client, service_headers), _open(client, service_headers)
    assert app_settings.database_url
    with get_sessionmaker(app_settings.database_url)() as session:
        session.execute(
            update(Demand)
            .where(Demand.number == late)
            .values(respond_due=date(2026, 1, 5), recommend_due=date(2026, 1, 7))
        )
        session.commit()
    staff = staff_headers(client)
    listed = client.get("/api/demands", params={"overdue": "true"}, headers=staff).json()["items"]
    assert [d["number"] for d in listed] == [late]
    assert listed[0]["respond_overdue"] and listed[0]["recommend_overdue"]
    assert not client.get(f"/api/demands/{on_time}", headers=staff).json()["respond_overdue"]
    # the bot asking for overdue demands sees only its own conversation's
    mine = client.get(
        "/api/demands",
        headers=service_headers,
        params={"overdue": "true", "conversation_id": "web:another-one"},
    )
    assert mine.status_code == 200 and mine.json()["items"] == []


def test_holiday_table_covers_an_unknown_year(
    client: TestClient, app_settings: AppSettings
) -> None:
    from desk.calendar.service import load_calendar

    staff = staff_headers(client)
    for day, working, note in [("2099-12-31", False, "元旦调休"), ("2100-01-01", False, "元旦")]:
        response = client.put(
            f"/api/calendar/days/{day}", headers=staff, json={"working": working, "note": note}
        )
        assert response.status_code == 200, response.text
    for year in (2099, 2100):
        assert client.post(f"/api/calendar/{year}/complete", headers=staff).status_code == 204
    assert app_settings.database_url
    with get_sessionmaker(app_settings.database_url)() as session:
        calendar = load_calendar(session)
    # Wed 2099-12-30 + 1 working day: Thu and Fri are holidays, then the weekend → Mon
    assert calendar.add_working_days(date(2099, 12, 30), 1) == date(2100, 1, 4)
    assert [d["day"] for d in client.get("/api/calendar/2099", headers=staff).json()] == [
        "2099-12-31"
    ]
