"""Helpers for the expert console's tests: escalations from the bot, experts, a fake port."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.settings import AppSettings
from desk.consultations.schemas import SendMode, TranscriptLine, Window
from desk.db import get_sessionmaker

from .staff import ADMIN_PASSWORD, login

PASSWORD = "a-long-password"


def session_for(settings: AppSettings) -> Session:
    assert settings.database_url
    return get_sessionmaker(settings.database_url)()


def admin_headers(client: TestClient) -> dict[str, str]:
    return login(client, "admin", ADMIN_PASSWORD)


def make_user(
    client: TestClient,
    username: str,
    role: str = "expert",
    *,
    display_name: str | None = None,
    domains: Sequence[str] = (),
    presence: str | None = None,
) -> dict[str, str]:
    """A console user (an expert by default) with domains and presence; their headers."""
    admin = admin_headers(client)
    response = client.post(
        "/api/users",
        headers=admin,
        json={
            "username": username,
            "display_name": display_name or username,
            "role": role,
            "password": PASSWORD,
        },
    )
    assert response.status_code == 201, response.text
    headers = login(client, username, PASSWORD)
    if domains:
        put = client.put(
            f"/api/experts/{username}/domains", headers=admin, json={"domains": list(domains)}
        )
        assert put.status_code == 200, put.text
    if presence:
        put = client.put("/api/experts/me/presence", headers=headers, json={"presence": presence})
        assert put.status_code == 200, put.text
    return headers


def open_escalation(
    client: TestClient, service_headers: dict[str, str], conversation_id: str, **fields: Any
) -> dict[str, Any]:
    body = {"conversation_id": conversation_id, "summary": "用户：电线电缆检测\n用户：转人工"}
    response = client.post("/api/escalations", headers=service_headers, json=body | fields)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def claim(client: TestClient, headers: dict[str, str], escalation_id: int) -> dict[str, Any]:
    response = client.post(f"/api/escalations/{escalation_id}/claim", headers=headers)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def detail(response: Any) -> tuple[int, str, str]:
    """(status, code, message) of an error answer."""
    body = response.json()["detail"]
    return response.status_code, body["code"], body["message"]


@dataclass
class FakePort:
    """A ConversationPort that keeps what the routes hand it."""

    lines: list[TranscriptLine] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)
    handed_back: list[dict[str, Any]] = field(default_factory=list)
    window_free: bool = True

    def transcript(self, session: Session, *, conversation_id: str) -> list[TranscriptLine]:
        return [line.model_copy() for line in self.lines]

    def lines_since(
        self, session: Session, *, after_id: int, conversation_ids: Sequence[str]
    ) -> list[tuple[str, TranscriptLine]]:
        return []

    def last_line_id(self, session: Session) -> int:
        return max((line.id for line in self.lines), default=0)

    def window(self, session: Session, *, conversation_id: str, channel: str) -> Window:
        return Window(channel=channel, free_text=self.window_free, remaining=5)

    async def send(
        self,
        *,
        conversation_id: str,
        channel: str,
        text: str,
        mode: SendMode,
        author: str,
        client_id: str,
    ) -> TranscriptLine:
        self.sent.append(
            {
                "conversation_id": conversation_id,
                "channel": channel,
                "text": text,
                "mode": mode,
                "author": author,
                "client_id": client_id,
            }
        )
        return TranscriptLine(
            id=100 + len(self.sent),
            sender="expert",
            text=text,
            created_at=datetime.now(UTC),
            author=author,
        )

    async def hand_back(
        self, *, conversation_id: str, channel: str, expert: str, outcome: str, escalation_id: int
    ) -> list[TranscriptLine]:
        self.handed_back.append(
            {
                "conversation_id": conversation_id,
                "channel": channel,
                "expert": expert,
                "outcome": outcome,
                "escalation_id": escalation_id,
            }
        )
        return []
