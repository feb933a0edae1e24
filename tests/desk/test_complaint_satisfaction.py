"""满意 as a record (§7.4.3): the complainant's answer to 「您对处理结果是否满意？」 is a field of
the complaint (satisfied / unsatisfied / not answered, with when), on the board and the detail,
filterable, and counted in the dashboard; answering twice records once; 不满意 reopens; a new
outcome is asked anew. On SQLite and PostgreSQL, and the migration fills it from the timeline."""

from datetime import datetime, timedelta
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.database import MIGRATIONS_DIR
from desk.clock import CHINA, now, today
from desk.db import get_engine

from .staff import staff_headers
from .test_complaints_lifecycle import COMPLAINT, _move

CONVERSATION = COMPLAINT["conversation_id"]


def _moment(value: str) -> datetime:
    """A time the API gave; SQLite hands back the China time the desk wrote without its zone."""
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA)


def _file(client: TestClient, bot: dict[str, str], institution: str) -> str:
    body = {**COMPLAINT, "institution_name": institution}
    response = client.post("/api/complaints", json=body, headers=bot)
    assert response.status_code == 201, response.text
    return str(response.json()["number"])


def _resolved(client: TestClient, bot: dict[str, str], staff: dict[str, str], name: str) -> str:
    number = _file(client, bot, name)
    _move(client, number, staff, to="investigating")
    _move(client, number, staff, to="forwarded")
    _move(client, number, staff, to="resolved", resolution="机构已复检并更正报告")
    return number


def _satisfied(client: TestClient, bot: dict[str, str], number: str) -> Any:
    return client.post(
        f"/api/complaints/{number}/satisfaction",
        json={"conversation_id": CONVERSATION},
        headers=bot,
    )


def _board(client: TestClient, staff: dict[str, str], **params: Any) -> dict[str, dict[str, Any]]:
    response = client.get("/api/desk/complaints", params=params, headers=staff)
    assert response.status_code == 200, response.text
    return {row["number"]: row for row in response.json()["items"]}


def _detail(client: TestClient, staff: dict[str, str], number: str) -> dict[str, Any]:
    response = client.get(f"/api/desk/complaints/{number}", headers=staff)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_satisfied_is_recorded_once_with_when_and_shown_to_staff(
    client: TestClient, service_headers: dict[str, str]
) -> None:
    staff = staff_headers(client)
    number = _file(client, service_headers, "江阴远澄线缆检测")
    open_row = _board(client, staff)[number]
    assert (open_row["satisfaction"], open_row["satisfaction_label"]) == (None, None)  # not asked
    assert _satisfied(client, service_headers, number).status_code == 409  # nothing to answer
    _move(client, number, staff, to="investigating")
    _move(client, number, staff, to="forwarded")
    _move(client, number, staff, to="resolved", resolution="机构已复检并更正报告")
    asked = _board(client, staff)[number]
    assert (asked["satisfaction"], asked["satisfaction_label"]) == (None, "未答复")

    before = now()
    first = _satisfied(client, service_headers, number)
    assert first.status_code == 200, first.text
    answered = first.json()
    assert (answered["satisfaction"], answered["satisfaction_label"]) == ("satisfied", "满意")
    at = answered["satisfaction_at"]
    assert at is not None
    assert abs(_moment(at) - before) < timedelta(seconds=30)
    again = _satisfied(client, service_headers, number)  # said twice: recorded once
    assert again.status_code == 200 and _moment(again.json()["satisfaction_at"]) == _moment(at)

    detail = _detail(client, staff, number)
    assert detail["complaint"]["satisfaction_label"] == "满意"
    assert _moment(detail["complaint"]["satisfaction_at"]) == _moment(at)
    notes = [s["note"] for s in detail["timeline"]]
    assert notes.count("投诉人对处理结果表示满意。") == 1
    # informing the complainant afterwards keeps the answer
    _move(client, number, staff, to="informed")
    assert _board(client, staff)[number]["satisfaction"] == "satisfied"


def test_unsatisfied_reopens_and_a_new_outcome_is_asked_anew(
    client: TestClient, service_headers: dict[str, str]
) -> None:
    staff = staff_headers(client)
    number = _resolved(client, service_headers, staff, "江阴远澄线缆检测")
    assert _satisfied(client, service_headers, number).status_code == 200
    reopened = client.post(
        f"/api/complaints/{number}/reopen",
        json={"conversation_id": CONVERSATION, "reason": "复检还是没有按国标做"},
        headers=service_headers,
    )
    assert reopened.status_code == 200, reopened.text
    body = reopened.json()
    assert (body["status"], body["satisfaction"], body["satisfaction_label"]) == (
        "investigating",
        "unsatisfied",
        "不满意",
    )
    assert body["satisfaction_at"] is not None
    assert _satisfied(client, service_headers, number).status_code == 409  # being handled again
    assert number in _board(client, staff, satisfaction="unsatisfied")

    _move(client, number, staff, to="forwarded")
    _move(client, number, staff, to="resolved", resolution="已按GB/T 3048重新检测")
    row = _board(client, staff)[number]
    assert (row["satisfaction"], row["satisfaction_label"], row["satisfaction_at"]) == (
        None,
        "未答复",
        None,
    )
    assert number in _board(client, staff, satisfaction="unanswered")
    assert number not in _board(client, staff, satisfaction="unsatisfied")


def test_the_board_filters_by_the_answer(
    client: TestClient, service_headers: dict[str, str]
) -> None:
    staff = staff_headers(client)
    pleased = _resolved(client, service_headers, staff, "江阴远澄线缆检测")
    silent = _resolved(client, service_headers, staff, "江阴市计量测试所")
    still_open = _file(client, service_headers, "无锡某检测公司")
    assert _satisfied(client, service_headers, pleased).status_code == 200

    assert set(_board(client, staff, satisfaction="satisfied")) == {pleased}
    assert set(_board(client, staff, satisfaction="unanswered")) == {silent}  # open: not asked
    assert set(_board(client, staff)) == {pleased, silent, still_open}
    wrong = client.get("/api/desk/complaints", params={"satisfaction": "happy"}, headers=staff)
    assert wrong.status_code == 422, wrong.text
    assert "满意度" in wrong.text


def test_the_dashboard_counts_the_answers_of_closed_complaints(
    client: TestClient, service_headers: dict[str, str]
) -> None:
    staff = staff_headers(client)
    answers = ["satisfied", "satisfied", "satisfied", "unsatisfied", None, "open"]
    for i, answer in enumerate(answers):
        if answer == "open":
            _file(client, service_headers, f"机构{i}")
            continue
        number = _resolved(client, service_headers, staff, f"机构{i}")
        if answer == "satisfied":
            assert _satisfied(client, service_headers, number).status_code == 200
        elif answer == "unsatisfied":
            client.post(
                f"/api/complaints/{number}/reopen",
                json={"conversation_id": CONVERSATION, "reason": "不认可处理结果"},
                headers=service_headers,
            ).raise_for_status()
    day = today().isoformat()
    response = client.get("/api/reports/dashboard", params={"from": day, "to": day}, headers=staff)
    assert response.status_code == 200, response.text
    figures = response.json()["overall"]["complaint_satisfaction"]
    # closed: 3 satisfied + 1 not answered; the unsatisfied one is being handled again
    assert figures == {
        "closed": 4,
        "satisfied": 3,
        "unsatisfied": 1,
        "unanswered": 1,
        "rate": 0.75,
    }
    [month] = response.json()["by_month"]
    assert month["complaint_satisfaction"] == figures


@pytest.mark.parametrize("answer", ["satisfied", "unsatisfied", "asked anew"])
def test_the_migration_fills_the_answer_from_the_timeline(
    database_url: str, tmp_path: Any, answer: str
) -> None:
    if database_url.startswith("postgresql"):  # the template is at head: start from nothing
        engine = get_engine(database_url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = get_engine(database_url)
    command.upgrade(config, "0017p")
    steps = [
        ("received", "received", "", "2026-03-02 09:00:00+00"),
        ("forwarded", "resolved", "已处理", "2026-03-03 09:00:00+00"),
        ("resolved", "resolved", "投诉人对处理结果表示满意。", "2026-03-04 09:00:00+00"),
    ]
    if answer != "satisfied":
        steps.append(
            (
                "resolved",
                "investigating",
                "投诉人对处理结果不满意，要求重新处理：没改",
                "2026-03-05 09:00:00+00",
            )
        )
    if answer == "asked anew":
        steps.append(("forwarded", "resolved", "再次处理", "2026-03-06 09:00:00+00"))
    with get_engine(database_url).begin() as connection:
        connection.execute(
            text(
                "INSERT INTO complaints (id, number, channel, institution_name, complaint_type,"
                " content, demand, status, received_on, investigation_due)"
                " VALUES (1, 'TS20260302-0001', 'online', '某机构', 'quality', '内容', '',"
                " :status, '2026-03-02', '2026-03-11')"
            ),
            {"status": steps[-1][1]},
        )
        for i, (from_status, to_status, note, at) in enumerate(steps, start=1):
            connection.execute(
                text(
                    "INSERT INTO complaint_events (id, complaint_id, from_status, to_status,"
                    " actor, note, at) VALUES (:id, 1, :f, :t, 'staff', :note, :at)"
                ),
                {"id": i, "f": from_status, "t": to_status, "note": note, "at": at},
            )
    command.upgrade(config, "heads")
    with get_engine(database_url).connect() as connection:
        satisfaction, at = connection.execute(
            text("SELECT satisfaction, satisfaction_at FROM complaints WHERE id = 1")
        ).one()
    expected = {"satisfied": ("satisfied", "03-04"), "unsatisfied": ("unsatisfied", "03-05")}
    if answer == "asked anew":
        assert (satisfaction, at) == (None, None)
    else:
        assert satisfaction == expected[answer][0]
        assert expected[answer][1] in str(at)
