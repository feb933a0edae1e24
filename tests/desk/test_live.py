"""The console's live stream (SSE): tickets, events with cursors, resume, what each one sees.

The stream loops until the client leaves: every read here runs in a thread with a deadline and
the response is closed afterwards, so no test can hang."""

import json
import threading
import time
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.settings import AppSettings
from desk.live import events
from desk.live.router import _sign

from .console import claim, detail, make_user, open_escalation, session_for

STREAM = "/api/console/stream"


def _ticket(client: TestClient, headers: dict[str, str]) -> str:
    response = client.post("/api/console/stream-ticket", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["expires_in_s"] == 60 and response.json()["expires_at"]
    return str(response.json()["ticket"])


def _read(
    client: TestClient,
    ticket: str,
    *,
    until: str,
    last_event_id: str | None = None,
    after_open: Any = None,
    timeout: float = 15.0,
) -> list[dict[str, Any]]:
    """Events ({id, event, data}) until one of kind ``until`` arrives (or the deadline)."""
    found: list[dict[str, Any]] = []
    opened = threading.Event()
    headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
    with client.stream("GET", STREAM, params={"ticket": ticket}, headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")

        def pump() -> None:
            current: dict[str, Any] = {}
            for line in response.iter_lines():
                if line.startswith("retry:"):
                    opened.set()
                elif line.startswith("id: "):
                    current["id"] = line[4:]
                elif line.startswith("event: "):
                    current["event"] = line[7:]
                elif line.startswith("data: "):
                    current["data"] = json.loads(line[6:])
                elif not line and current:
                    found.append(current)
                    if current.get("event") == until:
                        return
                    current = {}

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        if after_open is not None:
            assert opened.wait(timeout)
            after_open()
        reader.join(timeout)
    assert not reader.is_alive() or found, "no event before the deadline"
    return found


def test_a_ticket_is_needed_and_used_once(client: TestClient, app_settings: AppSettings) -> None:
    expert = make_user(client, "zhang.expert")
    assert client.post("/api/console/stream-ticket").status_code == 401

    bad = client.get(STREAM, params={"ticket": "1.abc.def"})
    assert detail(bad) == (401, "ticket_refused", "实时连接凭证无效，请刷新页面。")
    ticket = _ticket(client, expert)
    forged = ticket[:-1] + ("0" if ticket[-1] != "0" else "1")
    assert (
        detail(client.get(STREAM, params={"ticket": forged}))[2] == "实时连接凭证无效，请刷新页面。"
    )

    _, nonce, hashed, _ = ticket.split(".")
    past = f"{int(time.time()) - 1}.{nonce}.{hashed}"
    expired = f"{past}.{_sign(app_settings.secret('service_token'), past)}"
    assert detail(client.get(STREAM, params={"ticket": expired})) == (
        401,
        "ticket_refused",
        "实时连接凭证已过期，请重新连接。",
    )

    # a ticket opens one stream; a presence change ends the read
    events_seen = _read(
        client,
        ticket,
        until="presence",
        after_open=lambda: client.put(
            "/api/experts/me/presence", headers=expert, json={"presence": "online"}
        ),
    )
    assert events_seen[-1]["data"] == {"username": "zhang.expert", "presence": "online"}
    assert detail(client.get(STREAM, params={"ticket": ticket})) == (
        401,
        "ticket_refused",
        "实时连接凭证已使用过，请重新连接。",
    )

    staff = make_user(client, "wang.staff", "staff")
    staff_ticket = _ticket(client, staff)
    assert client.post("/api/auth/logout", headers=staff).status_code == 204
    assert (
        detail(client.get(STREAM, params={"ticket": staff_ticket}))[2] == "登录已失效，请重新登录。"
    )


def test_events_carry_cursors_and_a_reconnect_resumes(
    client: TestClient, service_headers: dict[str, str]
) -> None:
    expert = make_user(client, "zhang.expert", display_name="张工")
    escalation = open_escalation(client, service_headers, "web:live-1", domain="metrology")
    claim(client, expert, escalation["id"])
    client.put("/api/experts/me/presence", headers=expert, json={"presence": "online"})

    replay = _read(client, _ticket(client, expert), until="presence", last_event_id="e0m0")
    assert [e["event"] for e in replay] == ["escalation", "escalation", "presence"]
    assert [e["id"] for e in replay] == ["e1m0", "e2m0", "e3m0"]
    created, claimed = replay[0]["data"], replay[1]["data"]
    assert (created["id"], created["status"], created["domain_label"]) == (
        escalation["id"],
        "waiting",
        "计量",
    )
    assert (claimed["status"], claimed["expert_name"]) == ("claimed", "张工")

    # resuming after the claim sends only what came later
    client.put("/api/experts/me/presence", headers=expert, json={"presence": "away"})
    resumed = _read(client, _ticket(client, expert), until="presence", last_event_id="e2m0")
    assert [(e["id"], e["data"]["presence"]) for e in resumed] == [("e3m0", "online")]

    # a fresh connection starts after the newest event
    fresh = _read(
        client,
        _ticket(client, expert),
        until="escalation",
        after_open=lambda: client.post(
            f"/api/escalations/{escalation['id']}/close",
            headers=expert,
            json={"outcome": "answered"},
        ),
    )
    assert [e["event"] for e in fresh] == ["escalation"]
    assert fresh[0]["data"]["outcome_label"] == "已解答" and fresh[0]["id"] == "e5m0"


def test_an_expert_does_not_receive_notes_of_another_experts_consultation(
    client: TestClient, service_headers: dict[str, str]
) -> None:
    zhang = make_user(client, "zhang.expert")
    li = make_user(client, "li.expert")
    staff = make_user(client, "wang.staff", "staff")
    escalation_id = open_escalation(client, service_headers, "web:live-notes")["id"]
    claim(client, zhang, escalation_id)
    note = client.post(
        f"/api/escalations/{escalation_id}/notes", headers=zhang, json={"text": "私密"}
    )
    assert note.status_code == 201
    client.put("/api/experts/me/presence", headers=li, json={"presence": "online"})  # the sentinel

    def kinds(headers: dict[str, str]) -> list[str]:
        seen = _read(client, _ticket(client, headers), until="presence", last_event_id="e0m0")
        return [e["event"] for e in seen]

    assert kinds(zhang) == ["escalation", "escalation", "message", "presence"]
    assert kinds(staff) == ["escalation", "escalation", "message", "presence"]
    assert kinds(li) == ["escalation", "escalation", "presence"]


def test_streams_are_woken_after_commit_only(app_settings: AppSettings, client: TestClient) -> None:
    woken: list[str] = []
    remove = events.add_waker(woken.append)
    try:
        with session_for(app_settings) as session:
            events.publish(session, kind="presence", data={"username": "x", "presence": "online"})
            session.rollback()
            assert woken == []
            events.publish(session, kind="presence", data={"username": "x", "presence": "away"})
            session.commit()
            assert woken == ["console"]
            session.commit()  # nothing published since
            assert woken == ["console"]
            assert _kinds_after(session, 0) == [("presence", "away")]
    finally:
        remove()


def _kinds_after(session: Session, after: int) -> list[tuple[str, str]]:
    return [(e.kind, e.data["presence"]) for e in events.since(session, after_id=after)]
