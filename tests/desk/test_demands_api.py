"""Demands through the real app on SQLite and PostgreSQL."""

from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.settings import AppSettings
from desk.db import get_sessionmaker
from desk.demands.models import Demand

DEMAND = {
    "conversation_id": "web:test-conversation-1",
    "channel": "web",
    "need_text": "我们有一批电线电缆需要做检测",
    "product": "电线电缆",
    "place": "江阴市周庄镇",
    "contact_name": "张伟",
    "contact_mobile": "139 1234 5678",
    "service_ids": ["6.4.2"],
    "institution_ids": ["inst-cable-1"],
}


def _count(settings: AppSettings) -> int:
    assert settings.database_url
    with get_sessionmaker(settings.database_url)() as session:
        return int(session.scalar(select(func.count(Demand.id))) or 0)


def test_create_demand_writes_row_with_deadlines(
    client: TestClient, service_headers: dict[str, str], app_settings: AppSettings
) -> None:
    response = client.post("/api/demands", json=DEMAND, headers=service_headers)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["number"].startswith("XQ") and body["number"].endswith("-0001")
    assert body["status"] == "submitted"
    assert body["respond_due"] < body["recommend_due"]
    assert body["contact_mobile"] == "13912345678"
    assert _count(app_settings) == 1

    listed = client.get(
        "/api/demands",
        params={"conversation_id": DEMAND["conversation_id"]},
        headers=service_headers,
    ).json()["items"]
    assert [d["number"] for d in listed] == [body["number"]]
    assert listed[0]["service_ids"] == ["6.4.2"]


def test_details_of_the_need_are_kept_and_the_credit_code_checked(
    client: TestClient, service_headers: dict[str, str], app_settings: AppSettings
) -> None:
    details = {
        "quantity": "约200米",
        "wanted_date": "下周五前",
        "service_mode": "上门",
        "company_name": "江阴某线缆有限公司",
        "credit_code": "91320281ay4cl12thq",
        "chosen_institution_id": "inst-cable-1",
    }
    response = client.post("/api/demands", json={**DEMAND, **details}, headers=service_headers)
    assert response.status_code == 201, response.text
    assert app_settings.database_url
    with get_sessionmaker(app_settings.database_url)() as session:
        row = session.scalar(select(Demand).where(Demand.number == response.json()["number"]))
        assert row is not None
        assert (row.quantity, row.wanted_date, row.service_mode, row.company_name) == (
            "约200米",
            "下周五前",
            "上门",
            "江阴某线缆有限公司",
        )
        assert (row.credit_code, row.chosen_institution_id) == (
            "91320281AY4CL12THQ",
            "inst-cable-1",
        )

    bad = client.post(
        "/api/demands",
        headers=service_headers,
        json={
            **DEMAND,
            "conversation_id": "web:test-conversation-2",
            "credit_code": "91320281AY4CL12THA",
        },
    )
    assert bad.status_code == 422
    assert "校验位" in bad.json()["detail"]["message"]
    mode = client.post(
        "/api/demands",
        headers=service_headers,
        json={**DEMAND, "conversation_id": "web:test-conversation-2", "service_mode": "快递"},
    )
    assert mode.status_code == 422
    assert _count(app_settings) == 1


def test_repeated_idempotency_key_returns_first_demand(
    client: TestClient, service_headers: dict[str, str], app_settings: AppSettings
) -> None:
    headers = {**service_headers, "Idempotency-Key": "web:test-conversation-1:msg-7"}
    first = client.post("/api/demands", json=DEMAND, headers=headers)
    again = client.post("/api/demands", json=DEMAND, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["number"] == again.json()["number"]
    assert _count(app_settings) == 1


def test_bad_mobile_gets_chinese_422_and_writes_nothing(
    client: TestClient, service_headers: dict[str, str], app_settings: AppSettings
) -> None:
    response = client.post(
        "/api/demands", json={**DEMAND, "contact_mobile": "12345"}, headers=service_headers
    )
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail["code"] == "invalid_input"
    assert "手机号码" in detail["message"]
    assert _count(app_settings) == 0


def test_demands_need_the_service_token(client: TestClient, app_settings: AppSettings) -> None:
    wrong = {"Authorization": "Bearer not-the-token"}
    assert client.post("/api/demands", json=DEMAND, headers=wrong).status_code == 401
    assert client.get("/api/demands").status_code == 401
    assert _count(app_settings) == 0


def test_concurrent_creations_get_distinct_numbers(
    client: TestClient, service_headers: dict[str, str], app_settings: AppSettings
) -> None:
    def create(i: int) -> str:
        body = {**DEMAND, "conversation_id": f"web:concurrent-{i:03d}"}
        response = client.post("/api/demands", json=body, headers=service_headers)
        assert response.status_code == 201, response.text
        return str(response.json()["number"])

    with ThreadPoolExecutor(max_workers=16) as pool:
        numbers = list(pool.map(create, range(50)))
    assert len(set(numbers)) == 50
    assert _count(app_settings) == 50
