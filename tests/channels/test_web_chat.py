"""The web chat API and page, with Rasa not running (its real failure mode)."""

from fastapi.testclient import TestClient


def test_page_is_served_in_chinese(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert "质量门诊" in response.text
    assert "/api/chat/messages" in response.text


def test_health_is_200_while_the_app_is_up_even_without_rasa(client: TestClient) -> None:
    response = client.get("/health")  # this client runs no Rasa and no action server
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["parts"]["database"]["status"] == "ok"
    assert body["parts"]["rasa"]["status"] == "down"


def test_rasa_down_gives_apology_and_keeps_the_message(client: TestClient) -> None:
    cid = "web:rasa-down-001"
    response = client.post("/api/chat/messages", json={"conversation_id": cid, "text": "你好"})
    assert response.status_code == 200
    [message] = response.json()["messages"]
    assert "抱歉" in message["text"]
    history = client.get("/api/chat/history", params={"conversation_id": cid}).json()
    assert [(m["sender"], m["text"]) for m in history["messages"]] == [
        ("user", "你好"),
        ("system", message["text"]),
    ]


def test_bad_conversation_id_is_rejected_in_chinese(client: TestClient) -> None:
    response = client.post("/api/chat/messages", json={"conversation_id": "x", "text": "你好"})
    assert response.status_code == 422
    assert response.json()["detail"]["message"] == "会话编号格式不正确"
