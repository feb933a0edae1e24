"""Consent to the privacy notice (PIPL) before the bot stores contact details."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.settings import AppSettings
from desk.audit import entries_for
from desk.customers.settings import PrivacySettings, get_privacy_settings
from desk.db import get_sessionmaker
from desk.demands.models import Demand
from desk.provided import provided

from .staff import staff_headers
from .test_customers import ENTERPRISE

CONVERSATION = "wx:oConsent0001"
DEMAND = {
    "conversation_id": CONVERSATION,
    "need_text": "电线电缆检测",
    "product": "电线电缆",
    "place": "江阴市周庄镇",
    "contact_name": "张伟",
    "contact_mobile": "13912345678",
    "service_ids": ["6.4.2"],
}
COMPLAINT = {
    "conversation_id": CONVERSATION,
    "institution_name": "某检测公司",
    "complaint_type": "收费",
    "content": "收费与报价不一致",
}


@pytest.fixture
def consent_required(client: TestClient) -> Iterator[None]:
    overrides = provided(client.app)  # type: ignore[arg-type]
    overrides[get_privacy_settings] = lambda: PrivacySettings(require_consent=True)
    yield
    overrides.pop(get_privacy_settings, None)


def _consent(client: TestClient, headers: dict[str, str], agreed: bool) -> dict[str, object]:
    response = client.post(
        "/api/consents",
        headers=headers,
        json={"conversation_id": CONVERSATION, "notice_version": "2026-11", "agreed": agreed},
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def _demands(settings: AppSettings) -> int:
    assert settings.database_url
    with get_sessionmaker(settings.database_url)() as session:
        return int(session.scalar(select(func.count(Demand.id))) or 0)


def test_the_bot_records_consent_and_reads_the_latest(
    client: TestClient, service_headers: dict[str, str], app_settings: AppSettings
) -> None:
    none = client.get(f"/api/consents/{CONVERSATION}", headers=service_headers)
    assert none.status_code == 404
    assert none.json()["detail"]["message"] == "该会话尚无隐私告知的同意记录。"
    agreed = _consent(client, service_headers, True)
    assert agreed["agreed"] is True and agreed["notice_version"] == "2026-11" and agreed["at"]
    _consent(client, service_headers, False)  # a later answer replaces it
    latest = client.get(f"/api/consents/{CONVERSATION}", headers=service_headers).json()
    assert latest["agreed"] is False
    assert (
        client.get(f"/api/consents/{CONVERSATION}", headers=staff_headers(client)).status_code
        == 200
    )
    assert app_settings.database_url
    with get_sessionmaker(app_settings.database_url)() as session:
        assert [e.details["agreed"] for e in entries_for(session, subject=CONVERSATION)] == [
            True,
            False,
        ]


def test_consent_needs_the_desk_and_a_clear_answer(
    client: TestClient, service_headers: dict[str, str]
) -> None:
    assert client.post("/api/consents", json={}).status_code == 401
    expert = staff_headers(client, role="expert")
    assert (
        client.post(
            "/api/consents",
            headers=expert,
            json={
                "conversation_id": CONVERSATION,
                "notice_version": "v1",
                "agreed": True,
            },
        ).status_code
        == 403
    )
    missing = client.post(
        "/api/consents",
        headers=service_headers,
        json={"conversation_id": CONVERSATION, "notice_version": "v1"},
    )
    assert missing.status_code == 422
    assert missing.json()["detail"]["message"] == "是否同意不能为空"


def test_consent_is_required_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QCLINIC_REQUIRE_CONSENT", raising=False)
    assert PrivacySettings().require_consent is True


def test_with_the_setting_off_demands_need_no_consent(
    client: TestClient, service_headers: dict[str, str]
) -> None:
    assert client.post("/api/demands", json=DEMAND, headers=service_headers).status_code == 201


def test_demands_are_refused_until_the_person_agrees(
    client: TestClient,
    service_headers: dict[str, str],
    app_settings: AppSettings,
    consent_required: None,
) -> None:
    refused = client.post("/api/demands", json=DEMAND, headers=service_headers)
    assert refused.status_code == 422
    assert refused.json()["detail"] == {
        "code": "consent_required",
        "message": "保存联系方式前，需要用户先阅读隐私告知并同意；请先征得同意后再提交。",
    }
    _consent(client, service_headers, False)
    assert (
        client.post("/api/demands", json=DEMAND, headers=service_headers).json()["detail"]["code"]
        == "consent_required"
    )
    assert _demands(app_settings) == 0

    _consent(client, service_headers, True)
    assert client.post("/api/demands", json=DEMAND, headers=service_headers).status_code == 201
    other = client.post(
        "/api/demands",
        headers=service_headers,
        json={**DEMAND, "conversation_id": "web:no-consent"},
    )
    assert other.status_code == 422
    assert _demands(app_settings) == 1


def test_anonymous_complaints_need_no_consent(
    client: TestClient, service_headers: dict[str, str], consent_required: None
) -> None:
    anonymous = client.post("/api/complaints", json=COMPLAINT, headers=service_headers)
    assert anonymous.status_code == 201, anonymous.text
    assert anonymous.json()["follow_up_code"]
    named = client.post(
        "/api/complaints",
        headers=service_headers,
        json={**COMPLAINT, "contact_mobile": "13912345678"},
    )
    assert named.status_code == 422 and named.json()["detail"]["code"] == "consent_required"
    # staff enter a letter or a call: consent is taken there, not in a chat
    staff = client.post(
        "/api/complaints",
        headers=staff_headers(client),
        json={**COMPLAINT, "channel": "电话", "contact_mobile": "13912345678"},
    )
    assert staff.status_code == 201
    _consent(client, service_headers, True)
    assert (
        client.post(
            "/api/complaints",
            headers=service_headers,
            json={**COMPLAINT, "contact_mobile": "13912345678"},
        ).status_code
        == 201
    )


def test_the_bot_registers_customers_only_after_consent(
    client: TestClient, service_headers: dict[str, str], consent_required: None
) -> None:
    body = {**ENTERPRISE, "conversation_id": CONVERSATION}
    refused = client.post("/api/customers", json=body, headers=service_headers)
    assert refused.status_code == 422 and refused.json()["detail"]["code"] == "consent_required"
    _consent(client, service_headers, True)
    assert client.post("/api/customers", json=body, headers=service_headers).status_code == 201
