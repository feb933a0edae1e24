"""While an expert holds a conversation, the gateway keeps the user's messages from the bot."""

from fastapi.testclient import TestClient

from app.settings import AppSettings
from desk.clock import now
from desk.db import get_sessionmaker
from desk.escalations.schemas import EscalationCreate
from desk.escalations.service import claim, create_escalation


def _escalate(app_settings: AppSettings, cid: str) -> int:
    assert app_settings.database_url
    with get_sessionmaker(app_settings.database_url)() as session:
        escalation, _ = create_escalation(
            session,
            data=EscalationCreate(conversation_id=cid, summary="需要专家"),
            actor="bot",
            moment=now(),
        )
        return escalation.id


def test_waiting_escalation_gets_a_holding_note_not_the_bot(
    client: TestClient, app_settings: AppSettings
) -> None:
    cid = "web:expert-holds-01"
    _escalate(app_settings, cid)
    # Rasa is not running in this test: an attempted bot turn would give an apology instead.
    response = client.post(
        "/api/chat/messages", json={"conversation_id": cid, "text": "我的电缆样品什么时候送？"}
    )
    assert response.status_code == 200
    [note] = [m["text"] for m in response.json()["messages"]]
    assert note.startswith("已为您转接专家，您是下一位，预计等待约5分钟。")
    history = client.get("/api/chat/history", params={"conversation_id": cid}).json()["messages"]
    assert [(m["sender"], m["text"]) for m in history] == [
        ("user", "我的电缆样品什么时候送？"),
        ("system", note),
    ]


def test_bot_stays_quiet_while_an_expert_holds(
    client: TestClient, app_settings: AppSettings
) -> None:
    cid = "web:expert-holds-02"
    escalation_id = _escalate(app_settings, cid)
    assert app_settings.database_url
    with get_sessionmaker(app_settings.database_url)() as session:
        claim(session, escalation_id=escalation_id, actor="expert1", moment=now())
    response = client.post("/api/chat/messages", json={"conversation_id": cid, "text": "在吗"})
    assert response.status_code == 200
    assert response.json()["messages"] == []
    history = client.get("/api/chat/history", params={"conversation_id": cid}).json()["messages"]
    assert [(m["sender"], m["text"]) for m in history] == [("user", "在吗")]


def test_bot_answers_again_without_escalation(client: TestClient) -> None:
    response = client.post(
        "/api/chat/messages", json={"conversation_id": "web:no-expert-01", "text": "你好"}
    )
    assert response.status_code == 200
    assert "抱歉" in response.json()["messages"][0]["text"]  # the bot was tried (and is down)
