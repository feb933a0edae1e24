"""猜你想问 from real questions: the bot reports which FAQ answered a message (once per message),
and the most asked questions come first, counted by conversation over a recent window; withdrawn
entries are not offered; with no history the list is empty (SQLite and PostgreSQL)."""

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from app.settings import AppSettings
from desk.knowledge.models import FaqAnswer
from tests.desk.console import session_for

ANSWERED = "/api/knowledge/answered"
POPULAR = "/api/knowledge/popular"
X, Y, Z = "faq-register-how", "faq-register-enterprise-materials", "faq-register-personal-materials"


def _answer(
    client: TestClient, headers: dict[str, str], conversation: str, message: str, faq_id: str
) -> int:
    body = {"conversation_id": conversation, "message_id": message, "faq_id": faq_id}
    return client.post(ANSWERED, headers=headers, json=body).status_code


def test_the_most_asked_question_comes_first(
    kclient: TestClient, staff: dict[str, str], service_headers: dict[str, str]
) -> None:
    kclient.get("/api/knowledge/entries", headers=staff)  # a fresh install seeds its knowledge
    assert kclient.get(POPULAR).json()["items"] == []  # no history: nothing made up
    for n in range(4):
        assert _answer(kclient, service_headers, f"web:x{n}", "m1", X) == 201
    for n in range(2):
        assert _answer(kclient, service_headers, f"web:y{n}", "m1", Y) == 201
    for n in range(5):  # one conversation asking five times counts once
        _answer(kclient, service_headers, "web:z", f"m{n}", Z)
    assert _answer(kclient, service_headers, "web:x0", "m1", X) == 200  # the same report again

    items = kclient.get(POPULAR, params={"limit": 3}).json()["items"]
    assert [(i["faq_id"], i["conversations"]) for i in items] == [(X, 4), (Y, 2), (Z, 1)]
    assert items[0]["question"] == "怎么在平台注册账号？"

    for n in range(5):  # Y overtakes X
        _answer(kclient, service_headers, f"web:y-more{n}", "m1", Y)
    assert [i["faq_id"] for i in kclient.get(POPULAR).json()["items"]][:2] == [Y, X]


def test_old_answers_and_withdrawn_entries_are_not_offered(
    kclient: TestClient,
    staff: dict[str, str],
    service_headers: dict[str, str],
    app_settings: AppSettings,
) -> None:
    for n in range(3):
        _answer(kclient, service_headers, f"web:old{n}", "m1", X)
    _answer(kclient, service_headers, "web:new", "m1", Y)
    with session_for(app_settings) as session:
        long_ago = datetime.now(UTC) - timedelta(days=40)
        session.execute(update(FaqAnswer).where(FaqAnswer.faq_id == X).values(created_at=long_ago))
        session.commit()
    assert [i["faq_id"] for i in kclient.get(POPULAR).json()["items"]] == [Y]
    assert X in [i["faq_id"] for i in kclient.get(POPULAR, params={"days": 60}).json()["items"]]

    body = {"status": "withdrawn", "note": "过时", "publish": False}
    changed = kclient.post(f"/api/knowledge/entries/{Y}/status", headers=staff, json=body)
    assert changed.status_code == 200, changed.text
    assert kclient.get(POPULAR).json()["items"] == []


def test_only_the_bot_reports_and_bad_reports_are_refused(
    kclient: TestClient,
    staff: dict[str, str],
    service_headers: dict[str, str],
    app_settings: AppSettings,
) -> None:
    body = {"conversation_id": "web:a", "message_id": "m1", "faq_id": X}
    assert kclient.post(ANSWERED, json=body).status_code == 401
    assert kclient.post(ANSWERED, headers=staff, json=body).status_code == 403
    refused = kclient.post(ANSWERED, headers=service_headers, json=body | {"channel": "sms"})
    assert refused.status_code == 422
    assert kclient.get(POPULAR, params={"days": 0}).status_code == 422
    with session_for(app_settings) as session:
        assert session.scalar(select(func.count()).select_from(FaqAnswer)) == 0
