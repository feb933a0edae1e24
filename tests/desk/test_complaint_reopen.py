"""A complainant not satisfied with the outcome reopens the complaint (§8.2): through the bot in
its own conversation, or through staff by phone; a new 7-working-day deadline, the earlier
outcome kept on the timeline, the audit entry written, and nothing reopened that is still open."""

from datetime import date
from typing import Any

from fastapi.testclient import TestClient

from app.settings import AppSettings
from desk.audit import entries_for
from desk.calendar.service import load_calendar
from desk.clock import today
from desk.db import get_sessionmaker

from .staff import staff_headers
from .test_complaints_lifecycle import COMPLAINT, CONVERSATION, _file, _move


def _informed(client: TestClient, service_headers: dict[str, str]) -> tuple[str, dict[str, str]]:
    number = _file(client, service_headers)
    staff = staff_headers(client)
    _move(client, number, staff, to="investigating")
    _move(client, number, staff, to="forwarded")
    _move(client, number, staff, to="resolved", resolution="机构已复检并更正报告")
    _move(client, number, staff, to="informed", note="已电话告知")
    return number, staff


def _reopen(client: TestClient, number: str, headers: dict[str, str], **body: Any) -> Any:
    return client.post(f"/api/complaints/{number}/reopen", json=body, headers=headers)


def _due_in_seven_working_days(settings: AppSettings) -> date:
    assert settings.database_url
    with get_sessionmaker(settings.database_url)() as session:
        return load_calendar(session).add_working_days(today(), 7)


def test_staff_reopen_on_the_complainants_call(
    client: TestClient, service_headers: dict[str, str], app_settings: AppSettings
) -> None:
    number, staff = _informed(client, service_headers)
    answer = _reopen(client, number, staff, reason="复检结果仍与我们自测不符")
    assert answer.status_code == 200, answer.text
    reopened = answer.json()
    assert (reopened["status"], reopened["resolved_at"], reopened["informed_at"]) == (
        "investigating",
        None,
        None,
    )
    assert reopened["investigation_due"] == _due_in_seven_working_days(app_settings).isoformat()
    assert reopened["resolution"] == "机构已复检并更正报告"  # the earlier outcome is kept

    steps = client.get(f"/api/complaints/{number}/events", headers=staff).json()
    moves = [
        (s["from_status"], s["to_status"]) for s in steps if s["from_status"] != s["to_status"]
    ]
    assert moves[-1] == ("informed", "investigating")
    assert any("复检结果仍与我们自测不符" in (s["note"] or "") for s in steps)
    assert app_settings.database_url
    with get_sessionmaker(app_settings.database_url)() as session:
        actions = [e.action for e in entries_for(session, subject=number)]
    assert actions.count("complaint.reopen") == 1

    # it runs its course again
    _move(client, number, staff, to="forwarded")
    again = _move(client, number, staff, to="resolved", resolution="机构第三方复测，结果一致")
    assert again["resolution"] == "机构第三方复测，结果一致"


def test_the_bot_reopens_only_the_complaint_of_its_conversation(
    client: TestClient, service_headers: dict[str, str]
) -> None:
    number, _ = _informed(client, service_headers)
    other = _reopen(
        client, number, service_headers, reason="不满意", conversation_id="web:someone-else"
    )
    assert other.status_code in (403, 404), other.text
    mine = _reopen(client, number, service_headers, reason="不满意", conversation_id=CONVERSATION)
    assert mine.status_code == 200, mine.text
    assert mine.json()["status"] == "investigating"
    assert mine.json()["contact_mobile"] != COMPLAINT["contact_mobile"]  # masked for the bot
    steps = client.get(
        f"/api/complaints/{number}/events",
        params={"conversation_id": CONVERSATION},
        headers=service_headers,
    ).json()
    assert steps[-1]["to_status"] == "investigating"


def test_an_open_complaint_is_not_reopened_and_a_reason_is_required(
    client: TestClient, service_headers: dict[str, str]
) -> None:
    number, staff = _informed(client, service_headers)
    open_one = client.post(
        "/api/complaints",
        json={**COMPLAINT, "content": "另一件：报告迟迟不出"},
        headers=service_headers,
    ).json()["number"]
    still_open = _reopen(client, open_one, staff, reason="不满意")
    assert still_open.status_code == 409, still_open.text
    assert still_open.json()["detail"]["message"] == "该投诉尚未办结，正在处理中，无需重新处理。"
    blank = _reopen(client, number, staff, reason="   ")
    assert blank.status_code == 422, blank.text
    assert "原因" in blank.json()["detail"]["message"]
    expert = staff_headers(client, role="expert")
    assert _reopen(client, number, expert, reason="不满意").status_code == 403
    assert client.get(f"/api/complaints/{number}", headers=staff).json()["status"] == "informed"
