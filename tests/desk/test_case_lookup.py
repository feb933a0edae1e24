"""Finding one's demand or complaint from any conversation (issue 14): its number plus the mobile
that submitted it (or an anonymous complaint's follow-up code). A match links the conversation:
it then lists and reads the case, and the case's news goes to it. A wrong pair is refused with
the same words whether the number exists or not; five wrong tries lock the conversation for a
day; mobiles never reach the logs unmasked."""

import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.settings import AppSettings
from desk import case_notices
from desk.case_lookup.models import CaseLink, CaseLookupAttempt
from desk.case_notices import CaseNotice, NoticeResult
from desk.db import get_sessionmaker
from desk.demands import service as demands

from .staff import staff_headers
from .test_complaints_lifecycle import COMPLAINT, _file, _move

OLD = "web:lookup-old-0001"
NEW = "wx:o-lookup-new-0001"
DEMAND = {
    "conversation_id": OLD,
    "channel": "web",
    "need_text": "我们有50根电线电缆要测导体电阻",
    "product": "电线电缆",
    "place": "江阴市周庄镇",
    "contact_name": "王明",
    "contact_mobile": "13912345678",
}


def _demand(client: TestClient, headers: dict[str, str]) -> str:
    response = client.post("/api/demands", json=DEMAND, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["number"])


def _lookup(client: TestClient, headers: dict[str, str], **body: Any) -> Any:
    return client.post("/api/cases/lookup", json={"conversation_id": NEW, **body}, headers=headers)


def _listed(client: TestClient, headers: dict[str, str], kind: str, conversation: str) -> list[str]:
    answer = client.get(f"/api/{kind}", params={"conversation_id": conversation}, headers=headers)
    assert answer.status_code == 200, answer.text
    return [item["number"] for item in answer.json()["items"]]


def test_a_demand_is_found_by_number_and_mobile_and_the_conversation_linked(
    client: TestClient,
    service_headers: dict[str, str],
    app_settings: AppSettings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    number = _demand(client, service_headers)
    assert _listed(client, service_headers, "demands", NEW) == []
    hidden = client.get(
        f"/api/demands/{number}", params={"conversation_id": NEW}, headers=service_headers
    )
    assert hidden.status_code == 404  # not yet this conversation's

    with caplog.at_level(logging.INFO):
        found = _lookup(client, service_headers, number=number, mobile="139 1234 5678")
    assert found.status_code == 200, found.text
    assert found.json() == {
        "kind": "demand",
        "number": number,
        "status": "submitted",
        "status_label": "已提交",
        "linked": True,
    }
    assert "13912345678" not in caplog.text and "139****5678" in caplog.text

    # the new conversation now lists and reads it; the old one still does
    assert _listed(client, service_headers, "demands", NEW) == [number]
    assert _listed(client, service_headers, "demands", OLD) == [number]
    shown = client.get(
        f"/api/demands/{number}", params={"conversation_id": NEW}, headers=service_headers
    )
    assert shown.status_code == 200 and shown.json()["number"] == number

    # a second lookup from the same conversation does not link twice
    again = _lookup(client, service_headers, number=number, mobile="13912345678")
    assert again.status_code == 200 and again.json()["linked"] is False
    assert app_settings.database_url
    with get_sessionmaker(app_settings.database_url)() as session:
        links = list(session.scalars(select(CaseLink).where(CaseLink.number == number)))
        assert [link.conversation_id for link in links] == [NEW]
        demand = demands.get_demand(session, number=number)
        notes = [step.note for step in demands.events(session, number=number)]
        assert any("已关联该会话" in note for note in notes)

        # the case's news now goes to the conversation that found it
        told: list[CaseNotice] = []

        class Port:
            def tell(self, session: Any, notice: CaseNotice) -> NoticeResult:
                told.append(notice)
                return NoticeResult(how="wechat_message")

            def wake(self, conversation_id: str) -> None:
                return None

        case_notices.tell_enterprise(session, demands.DEMANDS, demand, port=Port(), actor="staff")
        assert [n.conversation_id for n in told] == [NEW]


def test_a_wrong_pair_tells_nothing_and_five_wrong_tries_lock_the_conversation(
    client: TestClient, service_headers: dict[str, str], app_settings: AppSettings
) -> None:
    number = _demand(client, service_headers)
    wrong_mobile = _lookup(client, service_headers, number=number, mobile="13800000000")
    missing = _lookup(client, service_headers, number="XQ20000101-0001", mobile="13912345678")
    garbage = _lookup(client, service_headers, number="你好", mobile="13912345678")
    assert wrong_mobile.status_code == missing.status_code == garbage.status_code == 404
    assert wrong_mobile.json() == missing.json() == garbage.json()  # the number's existence hidden
    assert "不匹配" in wrong_mobile.json()["detail"]["message"]
    no_secret = _lookup(client, service_headers, number=number)
    assert no_secret.status_code == 404

    fifth = _lookup(client, service_headers, number=number, mobile="1")
    assert fifth.status_code == 404
    locked = _lookup(client, service_headers, number=number, mobile="13912345678")
    assert locked.status_code == 429, locked.text
    assert locked.json()["detail"]["code"] == "too_many_attempts"
    assert "查询次数过多" in locked.json()["detail"]["message"]
    assert _listed(client, service_headers, "demands", NEW) == []  # nothing linked

    other = client.post(
        "/api/cases/lookup",
        json={"conversation_id": "web:another", "number": number, "mobile": "13912345678"},
        headers=service_headers,
    )
    assert other.status_code == 200  # the limit is per conversation
    assert app_settings.database_url
    with get_sessionmaker(app_settings.database_url)() as session:
        tries = list(
            session.scalars(select(CaseLookupAttempt.matched).order_by(CaseLookupAttempt.id))
        )
        assert tries == [False] * 5 + [True]  # the locked try is not even counted


def test_an_anonymous_complaint_is_found_by_its_follow_up_code(
    client: TestClient, service_headers: dict[str, str]
) -> None:
    body = {**COMPLAINT, "contact_name": None, "contact_mobile": None}
    created = client.post("/api/complaints", json=body, headers=service_headers)
    assert created.status_code == 201, created.text
    number, code = created.json()["number"], created.json()["follow_up_code"]
    assert code
    wrong = _lookup(client, service_headers, number=number, follow_up_code="ABCDEFGH")
    assert wrong.status_code == 404
    by_mobile = _lookup(client, service_headers, number=number, mobile="13912345678")
    assert by_mobile.status_code == 404  # an anonymous complaint has no mobile to match
    found = _lookup(client, service_headers, number=number, follow_up_code=code.lower())
    assert found.status_code == 200, found.text
    assert found.json()["kind"] == "complaint"
    assert _listed(client, service_headers, "complaints", NEW) == [number]
    events = client.get(
        f"/api/complaints/{number}/events", params={"conversation_id": NEW}, headers=service_headers
    )
    assert events.status_code == 200


def test_a_complaint_by_number_and_mobile(
    client: TestClient, service_headers: dict[str, str]
) -> None:
    number = _file(client, service_headers)
    found = _lookup(
        client, service_headers, number=number.lower(), mobile=COMPLAINT["contact_mobile"]
    )
    assert found.status_code == 200, found.text
    assert found.json()["number"] == number


def test_the_complainant_satisfied_with_the_outcome_is_marked_once(
    client: TestClient, service_headers: dict[str, str]
) -> None:
    number = _file(client, service_headers)
    conversation = COMPLAINT["conversation_id"]
    early = client.post(
        f"/api/complaints/{number}/satisfaction",
        json={"conversation_id": conversation},
        headers=service_headers,
    )
    assert early.status_code == 409, early.text  # nothing to be satisfied with yet
    staff = staff_headers(client)
    _move(client, number, staff, to="investigating")
    _move(client, number, staff, to="forwarded")
    _move(client, number, staff, to="resolved", resolution="机构已复检并更正报告")
    stranger = client.post(
        f"/api/complaints/{number}/satisfaction",
        json={"conversation_id": "web:stranger"},
        headers=service_headers,
    )
    assert stranger.status_code == 404
    for _ in range(2):
        answer = client.post(
            f"/api/complaints/{number}/satisfaction",
            json={"conversation_id": conversation},
            headers=service_headers,
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == "resolved"
    steps = client.get(f"/api/desk/complaints/{number}", headers=staff).json()["timeline"]
    assert [s["note"] for s in steps].count("投诉人对处理结果表示满意。") == 1
