"""Escalations to human experts (§5.3 a) through the real app on SQLite and PostgreSQL."""

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.settings import AppSettings
from desk.audit import entries_for
from desk.clock import CHINA
from desk.db import get_sessionmaker
from desk.escalations import hours, service
from desk.escalations.models import Escalation
from desk.sla import WorkingCalendar

from .staff import ADMIN_PASSWORD, create_user, login, staff_headers

CONVERSATION = "web:escalation-0001"
ESCALATION = {
    "conversation_id": CONVERSATION,
    "reason": "requested",
    "summary": "用户：我们有一批电线电缆需要检测\n用户：转人工",
    "channel": "web",
}


def _session(settings: AppSettings):  # type: ignore[no-untyped-def]
    assert settings.database_url
    return get_sessionmaker(settings.database_url)()


def _count(settings: AppSettings) -> int:
    with _session(settings) as session:
        return int(session.scalar(select(func.count(Escalation.id))) or 0)


def _open(client: TestClient, headers: dict[str, str], **changes: str) -> dict:  # type: ignore[type-arg]
    response = client.post("/api/escalations", json=ESCALATION | changes, headers=headers)
    assert response.status_code == 201, response.text
    body: dict = response.json()  # type: ignore[type-arg]
    return body


def _second_expert(client: TestClient) -> dict[str, str]:
    admin = login(client, "admin", ADMIN_PASSWORD)
    create_user(client, admin, "expert.two", "expert")
    return login(client, "expert.two", "a-long-password")


def test_bot_opens_an_escalation_once_per_conversation(
    client: TestClient, service_headers: dict[str, str], app_settings: AppSettings
) -> None:
    body = _open(client, service_headers)
    assert body["status"] == "waiting" and body["status_label"] == "等待专家接入"
    assert (body["reason"], body["reason_label"]) == ("requested", "用户要求转人工")
    assert body["conversation_id"] == CONVERSATION and body["expert"] is None
    assert body["summary"] == ESCALATION["summary"]
    assert isinstance(body["within_service_hours"], bool)
    assert datetime.fromisoformat(body["next_service_start"])

    again = client.post(
        "/api/escalations", headers=service_headers, json=ESCALATION | {"reason": "fallback"}
    )
    assert again.status_code == 200  # the waiting one, not a second
    assert again.json()["id"] == body["id"] and again.json()["reason"] == "requested"
    assert _count(app_settings) == 1

    with _session(app_settings) as session:
        active = service.active_escalation(session, conversation_id=CONVERSATION)
        assert active is not None and active.id == body["id"]
        assert service.active_escalation(session, conversation_id="web:nobody-here") is None
        [entry] = entries_for(session, subject=f"escalation:{body['id']}")
    assert (entry.actor, entry.action) == ("bot", "escalation.create")
    assert entry.details == {
        "conversation_id": CONVERSATION,
        "reason": "requested",
        "channel": "web",
    }


def test_expert_claims_and_hands_back_with_timeline_and_audit(
    client: TestClient, service_headers: dict[str, str], app_settings: AppSettings
) -> None:
    escalation_id = _open(client, service_headers)["id"]
    expert = staff_headers(client, role="expert")

    waiting = client.get("/api/escalations", params={"status": "waiting"}, headers=expert)
    assert waiting.status_code == 200
    assert [e["id"] for e in waiting.json()["items"]] == [escalation_id]

    claimed = client.post(f"/api/escalations/{escalation_id}/claim", headers=expert)
    assert claimed.status_code == 200, claimed.text
    assert claimed.json()["status"] == "claimed"
    assert claimed.json()["expert"] == "expert.user" and claimed.json()["claimed_at"]
    twice = client.post(f"/api/escalations/{escalation_id}/claim", headers=expert)
    assert twice.status_code == 409 and twice.json()["detail"]["code"] == "already_claimed"

    other = _second_expert(client)
    stolen = client.post(f"/api/escalations/{escalation_id}/release", headers=other, json={})
    assert stolen.status_code == 403 and stolen.json()["detail"]["code"] == "not_yours"
    with _session(app_settings) as session:
        assert service.active_escalation(session, conversation_id=CONVERSATION) is not None

    released = client.post(
        f"/api/escalations/{escalation_id}/release",
        headers=expert,
        json={"note": "已解答强制检定流程"},
    )
    assert released.status_code == 200, released.text
    assert released.json()["status"] == "closed" and released.json()["closed_at"]
    with _session(app_settings) as session:
        assert service.active_escalation(session, conversation_id=CONVERSATION) is None
        actions = [e.action for e in entries_for(session, subject=f"escalation:{escalation_id}")]
    assert actions == ["escalation.create", "escalation.claim", "escalation.release"]

    timeline = client.get(f"/api/escalations/{escalation_id}/events", headers=expert).json()
    assert [(e["from_status"], e["to_status"], e["actor"]) for e in timeline] == [
        (None, "waiting", "bot"),
        ("waiting", "claimed", "expert.user"),
        ("claimed", "closed", "expert.user"),
    ]
    assert timeline[-1]["note"] == "已解答强制检定流程"
    labels = [e["to_status_label"] for e in timeline]
    assert labels == ["等待专家接入", "专家接待中", "已交还智能助手"]

    # handed back: asking for a person again opens a new escalation
    assert _open(client, service_headers, reason="fallback")["id"] != escalation_id


def test_roles(client: TestClient, service_headers: dict[str, str]) -> None:
    escalation_id = _open(client, service_headers)["id"]
    staff = staff_headers(client)

    assert client.get("/api/escalations", headers=service_headers).status_code == 403
    own = client.get(
        "/api/escalations", params={"conversation_id": CONVERSATION}, headers=service_headers
    )
    assert own.status_code == 200 and len(own.json()["items"]) == 1
    assert (
        client.post(f"/api/escalations/{escalation_id}/claim", headers=service_headers).status_code
        == 403
    )
    assert client.post(f"/api/escalations/{escalation_id}/claim", headers=staff).status_code == 403
    assert client.post("/api/escalations", json=ESCALATION, headers=staff).status_code == 403
    assert client.get("/api/escalations").status_code == 401
    assert client.get(f"/api/escalations/{escalation_id}", headers=staff).status_code == 200
    assert client.get("/api/escalations/999999", headers=staff).status_code == 404

    # staff may close one nobody took (e.g. answered by phone)
    closed = client.post(
        f"/api/escalations/{escalation_id}/release", headers=staff, json={"note": "已电话回复"}
    )
    assert closed.status_code == 200 and closed.json()["status"] == "closed"


def test_bad_input_is_refused(client: TestClient, service_headers: dict[str, str]) -> None:
    response = client.post(
        "/api/escalations", headers=service_headers, json=ESCALATION | {"reason": "bored"}
    )
    assert response.status_code == 422
    long = client.post(
        "/api/escalations", headers=service_headers, json=ESCALATION | {"summary": "字" * 4001}
    )
    assert long.status_code == 422


def test_concurrent_requests_open_one_escalation(
    client: TestClient, service_headers: dict[str, str], app_settings: AppSettings
) -> None:
    def create(_: int) -> int:
        response = client.post("/api/escalations", json=ESCALATION, headers=service_headers)
        assert response.status_code in (200, 201), response.text
        return int(response.json()["id"])

    with ThreadPoolExecutor(max_workers=6) as pool:
        ids = set(pool.map(create, range(12)))
    assert len(ids) == 1 and _count(app_settings) == 1


CALENDAR = WorkingCalendar()


@pytest.mark.parametrize(
    ("moment", "on_duty", "next_start"),
    [
        (datetime(2025, 6, 10, 10, 30), True, datetime(2025, 6, 10, 10, 30)),  # Tuesday
        (datetime(2025, 6, 10, 8, 59), False, datetime(2025, 6, 10, 9, 0)),
        (datetime(2025, 6, 10, 17, 0), False, datetime(2025, 6, 11, 9, 0)),
        (datetime(2025, 6, 13, 18, 0), False, datetime(2025, 6, 16, 9, 0)),  # Friday evening
        (datetime(2025, 9, 30, 18, 0), False, datetime(2025, 10, 9, 9, 0)),  # National Day
        (datetime(2025, 9, 28, 10, 0), True, datetime(2025, 9, 28, 10, 0)),  # 调休 Sunday
    ],
)
def test_service_hours_follow_the_working_calendar(
    moment: datetime, on_duty: bool, next_start: datetime
) -> None:
    local = moment.replace(tzinfo=CHINA)
    assert hours.within_service_hours(local, CALENDAR) is on_duty
    assert hours.next_service_start(local, CALENDAR) == next_start.replace(tzinfo=CHINA)
