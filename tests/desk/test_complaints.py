"""Taking complaints (§7.4.2) through the real app on SQLite and PostgreSQL."""

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.settings import AppSettings
from desk import sla
from desk.audit import entries_for
from desk.clock import today
from desk.complaints import service
from desk.complaints.matching import match_institution
from desk.complaints.models import Complaint
from desk.complaints.schemas import ComplaintCreate
from desk.db import get_sessionmaker
from knowledge.store import get_knowledge

from .staff import staff_headers

CONVERSATION = "web:complaint-0001"
COMPLAINT = {
    "conversation_id": CONVERSATION,
    "channel": "online",
    "institution_name": "远澄线缆",
    "complaint_type": "efficiency",
    "content": "送检的电缆样品两周了还没出报告，催了几次都没有答复",
    "demand": "希望尽快出具检测报告并说明延误原因",
    "contact_name": "张伟",
    "contact_mobile": "139 1234 5678",
}


def _count(settings: AppSettings) -> int:
    assert settings.database_url
    with get_sessionmaker(settings.database_url)() as session:
        return int(session.scalar(select(func.count(Complaint.id))) or 0)


def _row(settings: AppSettings, number: str) -> Complaint:
    assert settings.database_url
    with get_sessionmaker(settings.database_url)() as session:
        row = session.scalar(select(Complaint).where(Complaint.number == number))
        assert row is not None
        return row


def test_bot_files_a_complaint_with_number_deadline_and_link(
    client: TestClient,
    service_headers: dict[str, str],
    app_settings: AppSettings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="desk.complaints"):
        response = client.post("/api/complaints", json=COMPLAINT, headers=service_headers)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["number"] == f"TS{today():%Y%m%d}-0001"
    assert body["status"] == "received" and body["status_label"] == "已受理"
    assert body["investigation_due"] == sla.add_working_days(today(), 7).isoformat()
    assert body["received_on"] == today().isoformat() and body["overdue"] is False
    assert body["institution_id"] == "inst-yuancheng-cable-lab"
    assert body["institution_title"] == "江阴远澄线缆检测中心"
    assert body["institution_name"] == "远澄线缆"  # kept as the complainant said it
    assert (body["complaint_type"], body["complaint_type_label"]) == ("efficiency", "服务效率")
    assert (body["channel"], body["channel_label"]) == ("online", "网上")
    assert body["contact_mobile"] == "139****5678"  # masked to the bot
    assert body["follow_up_code"] is None  # reachable by phone, no code needed
    logged = [r.getMessage() for r in caplog.records if r.name == "desk.complaints.service"]
    assert any(body["number"] in line and "139****5678" in line for line in logged)
    assert "13912345678" not in caplog.text

    row = _row(app_settings, body["number"])
    assert row.contact_mobile == "13912345678" and row.demand == COMPLAINT["demand"]
    assert row.conversation_id == CONVERSATION and row.follow_up_code_hash is None
    assert app_settings.database_url
    with get_sessionmaker(app_settings.database_url)() as session:
        [entry] = entries_for(session, subject=body["number"])
    assert (entry.actor, entry.action) == ("bot", "complaint.create")
    assert entry.details["contact_mobile"] == "139****5678"
    assert "13912345678" not in str(entry.details)

    staff = staff_headers(client)
    full = client.get(f"/api/complaints/{body['number']}", headers=staff).json()
    assert full["contact_mobile"] == "13912345678"  # staff call the complainant back


@pytest.mark.parametrize(
    "name", ["远澄线缆", "江阴远澄线缆检测", "江阴远澄线缆检测中心", "远澄线缆检测中心有限公司"]
)
def test_fuzzy_names_link_to_the_institution(name: str) -> None:
    match = match_institution(name, get_knowledge().institutions)
    assert match is not None and match.institution_id == "inst-yuancheng-cable-lab"


@pytest.mark.parametrize("name", ["线缆检测", "某某检测公司", "远澄食品检测", "无锡", "质量"])
def test_generic_or_unknown_names_link_to_nothing(name: str) -> None:
    assert match_institution(name, get_knowledge().institutions) is None


def test_unknown_institution_stays_unlinked(
    client: TestClient, service_headers: dict[str, str]
) -> None:
    response = client.post(
        "/api/complaints",
        headers=service_headers,
        json={**COMPLAINT, "institution_name": "无锡某某检测有限公司"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["institution_id"] is None and body["institution_title"] is None
    assert body["institution_name"] == "无锡某某检测有限公司"


def test_investigation_due_counts_seven_working_days(
    client: TestClient, app_settings: AppSettings
) -> None:
    assert app_settings.database_url
    data = ComplaintCreate.model_validate({**COMPLAINT, "conversation_id": None})
    with get_sessionmaker(app_settings.database_url)() as session:
        complaint, created, _ = service.create_complaint(
            session, data=data, idempotency_key=None, today=date(2026, 11, 23), actor="tester"
        )
    # Monday 23 November 2026 + 7 working days
    assert created and complaint.investigation_due == date(2026, 12, 2)
    assert complaint.number == "TS20261123-0001"


def test_staff_enter_a_letter_received_earlier(
    client: TestClient, app_settings: AppSettings
) -> None:
    staff = staff_headers(client)
    received = today() - timedelta(days=3)
    letter = {
        **COMPLAINT,
        "conversation_id": None,
        "channel": "信件",
        "received_on": received.isoformat(),
        "complaint_type": "收费",
    }
    response = client.post("/api/complaints", json=letter, headers=staff)
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["channel"], body["complaint_type"]) == ("letter", "fees")
    assert body["investigation_due"] == sla.add_working_days(received, 7).isoformat()
    assert body["contact_mobile"] == "13912345678" and body["conversation_id"] is None

    future = {**letter, "received_on": (today() + timedelta(days=1)).isoformat()}
    refused = client.post("/api/complaints", json=future, headers=staff)
    assert refused.status_code == 422 and "受理日期" in refused.json()["detail"]["message"]
    assert _count(app_settings) == 1


def test_repeated_idempotency_key_returns_first_complaint(
    client: TestClient, service_headers: dict[str, str], app_settings: AppSettings
) -> None:
    headers = {**service_headers, "Idempotency-Key": f"{CONVERSATION}:msg-12"}
    first = client.post("/api/complaints", json=COMPLAINT, headers=headers)
    again = client.post("/api/complaints", json=COMPLAINT, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["number"] == again.json()["number"]
    assert _count(app_settings) == 1

    elsewhere = client.post(
        "/api/complaints",
        headers=headers,
        json={**COMPLAINT, "conversation_id": "web:someone-else"},
    )
    assert elsewhere.status_code == 409  # never another conversation's complaint
    assert _count(app_settings) == 1


def test_thirty_concurrent_complaints_get_distinct_numbers(
    client: TestClient, service_headers: dict[str, str], app_settings: AppSettings
) -> None:
    def create(i: int) -> str:
        body = {**COMPLAINT, "conversation_id": f"web:concurrent-{i:03d}"}
        response = client.post("/api/complaints", json=body, headers=service_headers)
        assert response.status_code == 201, response.text
        return str(response.json()["number"])

    with ThreadPoolExecutor(max_workers=10) as pool:
        numbers = list(pool.map(create, range(30)))
    assert len(set(numbers)) == 30
    assert sorted(numbers) == [f"TS{today():%Y%m%d}-{i:04d}" for i in range(1, 31)]
    assert _count(app_settings) == 30


def test_anonymous_complaint_is_followed_up_with_its_code(
    client: TestClient, service_headers: dict[str, str], app_settings: AppSettings
) -> None:
    anonymous = {
        key: value
        for key, value in COMPLAINT.items()
        if key not in {"contact_name", "contact_mobile"}
    }
    response = client.post("/api/complaints", json=anonymous, headers=service_headers)
    assert response.status_code == 201, response.text
    body = response.json()
    number, code = body["number"], body["follow_up_code"]
    assert body["contact_name"] is None and body["contact_mobile"] is None
    assert isinstance(code, str) and len(code) == 8
    row = _row(app_settings, number)
    assert row.follow_up_code_hash and code not in row.follow_up_code_hash  # stored hashed
    # shown once: reading the complaint again does not show it
    again = client.get(
        f"/api/complaints/{number}",
        params={"conversation_id": CONVERSATION},
        headers=service_headers,
    ).json()
    assert "follow_up_code" not in again

    followed = client.post(
        "/api/complaints/follow-up",  # no login
        json={"number": number, "follow_up_code": code.lower()},
    )
    assert followed.status_code == 200, followed.text
    assert followed.json() == {
        "number": number,
        "status": "received",
        "status_label": "已受理",
        "complaint_type_label": "服务效率",
        "institution_name": "远澄线缆",
        "received_on": today().isoformat(),
        "investigation_due": body["investigation_due"],
        "overdue": False,
        "resolution": None,
    }
    wrong_code = "AAAAAAAA" if code != "AAAAAAAA" else "BBBBBBBB"
    for attempt in (
        {"number": number, "follow_up_code": wrong_code},
        {"number": "TS20000101-0001", "follow_up_code": code},
    ):
        refused = client.post("/api/complaints/follow-up", json=attempt)
        assert refused.status_code == 404
        assert refused.json()["detail"]["message"] == "投诉编号或查询码不正确，请核对后再试。"


def test_repeat_of_an_anonymous_complaint_reissues_its_code(
    client: TestClient, service_headers: dict[str, str], app_settings: AppSettings
) -> None:
    anonymous = {**COMPLAINT, "contact_name": "", "contact_mobile": ""}
    headers = {**service_headers, "Idempotency-Key": f"{CONVERSATION}:msg-20"}
    first = client.post("/api/complaints", json=anonymous, headers=headers).json()
    again = client.post("/api/complaints", json=anonymous, headers=headers)
    assert again.status_code == 200 and again.json()["number"] == first["number"]
    # whoever repeats never saw the first answer: a fresh code replaces the first one
    new_code = again.json()["follow_up_code"]
    assert new_code and new_code != first["follow_up_code"]
    query = {"number": first["number"]}
    assert (
        client.post(
            "/api/complaints/follow-up", json={**query, "follow_up_code": new_code}
        ).status_code
        == 200
    )
    assert (
        client.post(
            "/api/complaints/follow-up", json={**query, "follow_up_code": first["follow_up_code"]}
        ).status_code
        == 404
    )
    assert _count(app_settings) == 1


def test_complaint_with_a_mobile_cannot_be_followed_up_by_code(
    client: TestClient, service_headers: dict[str, str]
) -> None:
    number = client.post("/api/complaints", json=COMPLAINT, headers=service_headers).json()[
        "number"
    ]
    refused = client.post(
        "/api/complaints/follow-up", json={"number": number, "follow_up_code": "ABCDEFGH"}
    )
    assert refused.status_code == 404


def test_bot_sees_only_its_own_conversation(
    client: TestClient, service_headers: dict[str, str]
) -> None:
    number = client.post("/api/complaints", json=COMPLAINT, headers=service_headers).json()[
        "number"
    ]
    client.post(
        "/api/complaints",
        headers=service_headers,
        json={**COMPLAINT, "conversation_id": "web:someone-else"},
    )
    assert client.get("/api/complaints", headers=service_headers).status_code == 403
    own = client.get(
        "/api/complaints", params={"conversation_id": CONVERSATION}, headers=service_headers
    ).json()["items"]
    assert [c["number"] for c in own] == [number]
    assert own[0]["contact_mobile"] == "139****5678"
    for path in (f"/api/complaints/{number}", f"/api/complaints/{number}/events"):
        other = client.get(
            path, params={"conversation_id": "web:someone-else"}, headers=service_headers
        )
        assert other.status_code == 404
        assert client.get(path, headers=service_headers).status_code == 404
    no_conversation = client.post(
        "/api/complaints", headers=service_headers, json={**COMPLAINT, "conversation_id": None}
    )
    assert no_conversation.status_code == 422


def test_complaints_need_a_login(client: TestClient, app_settings: AppSettings) -> None:
    assert client.post("/api/complaints", json=COMPLAINT).status_code == 401
    assert client.get("/api/complaints").status_code == 401
    wrong = {"Authorization": "Bearer not-the-token"}
    assert client.post("/api/complaints", json=COMPLAINT, headers=wrong).status_code == 401
    assert _count(app_settings) == 0


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"contact_mobile": "12345"}, "手机号码"),
        ({"content": "   "}, "投诉内容：不能为空"),
        ({"content": ""}, "投诉内容不能为空"),
        ({"complaint_type": "态度很差"}, "投诉类型应为：服务态度、服务效率、收费、质量/结果、其他"),
        ({"channel": "fax"}, "投诉渠道应为：电话、网上、服务站点、信件"),
        ({"institution_name": ""}, "被投诉机构不能为空"),
    ],
)
def test_bad_input_gets_chinese_422_and_writes_nothing(
    client: TestClient,
    service_headers: dict[str, str],
    app_settings: AppSettings,
    change: dict[str, str],
    words: str,
) -> None:
    response = client.post("/api/complaints", json={**COMPLAINT, **change}, headers=service_headers)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail["code"] == "invalid_input"
    assert words in detail["message"], detail["message"]
    assert _count(app_settings) == 0
