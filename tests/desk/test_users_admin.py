"""Admins manage console accounts: create (a generated password shown once), list and filter,
edit, reset a password, deactivate (sessions end at once, an expert's consultations go back to
the queue) and reactivate; the last active admin stays; staff and experts are refused."""

import threading
import time
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.settings import AppSettings
from desk.audit import AuditEntry, entries_for
from desk.escalations.models import EscalationEvent

from .console import admin_headers, make_user, open_escalation, session_for
from .staff import login


def _create(client: TestClient, admin: dict[str, str], **body: Any) -> dict[str, Any]:
    response = client.post("/api/users", headers=admin, json=body)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def _change_password(client: TestClient, headers: dict[str, str], current: str) -> None:
    body = {"current_password": current, "new_password": "my-own-password-1"}
    assert client.post("/api/auth/password", headers=headers, json=body).status_code == 204


def test_a_generated_password_is_shown_once_and_must_be_changed(
    client: TestClient, app_settings: AppSettings
) -> None:
    admin = admin_headers(client)
    created = _create(client, admin, username="li.staff", display_name="李敏", role="staff")
    password = created["generated_password"]
    assert len(password) == 16 and created["must_change_password"] is True
    # never again: the account's page does not have it
    again = client.get("/api/users/li.staff", headers=admin)
    assert again.status_code == 200 and password not in again.text

    staff = login(client, "li.staff", password)
    refused = client.get("/api/demands", headers=staff)
    assert refused.status_code == 403
    assert refused.json()["detail"]["code"] == "password_change_required"
    _change_password(client, staff, password)
    assert client.get("/api/demands", headers=staff).status_code == 200

    with session_for(app_settings) as session:
        entry = entries_for(session, subject="user:li.staff")[0]
        assert (entry.actor, entry.action) == ("admin", "user.create")
        assert password not in str(entry.details)
        assert [e.action for e in entries_for(session, subject="user:li.staff")] == [
            "user.create",
            "auth.login",
            "auth.password_change",
        ]


def test_list_filter_and_edit(client: TestClient, app_settings: AppSettings) -> None:
    admin = admin_headers(client)
    for username, name, role in [
        ("wang.staff", "王芳", "staff"),
        ("zhou.expert", "周工", "expert"),
        ("qian.expert", "钱工", "expert"),
    ]:
        _create(client, admin, username=username, display_name=name, role=role, password="x" * 12)
    experts = client.get("/api/users", headers=admin, params={"role": "expert"}).json()
    assert [u["username"] for u in experts["items"]] == ["qian.expert", "zhou.expert"]
    assert experts["total"] == 2
    found = client.get("/api/users", headers=admin, params={"q": "周"}).json()
    assert [u["username"] for u in found["items"]] == ["zhou.expert"]
    paged = client.get("/api/users", headers=admin, params={"page": 2, "page_size": 2}).json()
    assert paged["total"] == 4 and len(paged["items"]) == 2

    edited = client.put(
        "/api/users/zhou.expert", headers=admin, json={"display_name": "周明", "role": "staff"}
    )
    assert edited.status_code == 200, edited.text
    assert (edited.json()["display_name"], edited.json()["role"]) == ("周明", "staff")
    with session_for(app_settings) as session:
        entry = entries_for(session, subject="user:zhou.expert")[-1]
        assert entry.action == "user.update"
        assert entry.details["role"] == {"from": "expert", "to": "staff"}
        assert entry.details["display_name"] == {"from": "周工", "to": "周明"}

    bad = client.put("/api/users/zhou.expert", headers=admin, json={"role": "boss"})
    assert bad.status_code == 422
    missing = client.put("/api/users/nobody", headers=admin, json={"display_name": "x"})
    assert missing.status_code == 404 and "nobody" in missing.json()["detail"]["message"]


def test_staff_and_experts_may_not_administer(client: TestClient) -> None:
    staff = make_user(client, "wang.staff", "staff")
    expert = make_user(client, "zhou.expert", "expert")
    for headers in (staff, expert):
        for method, path, body in [
            ("get", "/api/users", None),
            ("post", "/api/users", {"username": "x.y", "display_name": "x", "role": "admin"}),
            ("put", "/api/users/wang.staff", {"role": "admin"}),
            ("post", "/api/users/zhou.expert/reset-password", None),
            ("post", "/api/users/zhou.expert/deactivate", None),
            ("post", "/api/users/zhou.expert/reactivate", None),
            ("get", "/api/audit", None),
            ("get", "/api/audit/login-failures", None),
        ]:
            response = client.request(method, path, headers=headers, json=body)
            assert response.status_code == 403, (method, path, response.text)


def test_deactivation_ends_sessions_at_once_and_refuses_the_login(
    client: TestClient, app_settings: AppSettings
) -> None:
    admin = admin_headers(client)
    staff = make_user(client, "wang.staff", "staff")
    assert client.get("/api/demands", headers=staff).status_code == 200
    done = client.post("/api/users/wang.staff/deactivate", headers=admin)
    assert done.status_code == 200, done.text
    assert done.json()["sessions_ended"] == 1 and done.json()["user"]["active"] is False

    assert client.get("/api/demands", headers=staff).status_code == 401
    assert client.post("/api/console/stream-ticket", headers=staff).status_code == 401
    right = client.post(
        "/api/auth/login", json={"username": "wang.staff", "password": "a-long-password"}
    )
    assert right.status_code == 403
    assert right.json()["detail"]["message"] == "该账户已停用，请联系管理员。"
    # a wrong password does not tell that the account exists
    wrong = client.post("/api/auth/login", json={"username": "wang.staff", "password": "nope"})
    assert wrong.status_code == 401 and wrong.json()["detail"]["message"] == "用户名或密码错误。"
    # a second click changes nothing and records nothing twice
    assert client.post("/api/users/wang.staff/deactivate", headers=admin).status_code == 200
    listed = client.get("/api/users", headers=admin, params={"active": False}).json()
    assert [u["username"] for u in listed["items"]] == ["wang.staff"]

    assert client.post("/api/users/wang.staff/reactivate", headers=admin).status_code == 200
    login(client, "wang.staff", "a-long-password")
    with session_for(app_settings) as session:
        actions = [e.action for e in entries_for(session, subject="user:wang.staff")]
    assert actions == [
        "user.create",
        "auth.login",
        "user.deactivate",
        "auth.login_disabled",
        "auth.login_failed",
        "user.reactivate",
        "auth.login",
    ]


def test_a_reset_password_ends_sessions_and_must_be_changed(client: TestClient) -> None:
    admin = admin_headers(client)
    expert = make_user(client, "zhou.expert", "expert")
    reset = client.post("/api/users/zhou.expert/reset-password", headers=admin)
    assert reset.status_code == 200, reset.text
    password = reset.json()["generated_password"]
    assert client.get("/api/experts", headers=expert).status_code == 401
    old = client.post(
        "/api/auth/login", json={"username": "zhou.expert", "password": "a-long-password"}
    )
    assert old.status_code == 401
    fresh = client.post("/api/auth/login", json={"username": "zhou.expert", "password": password})
    assert fresh.status_code == 200 and fresh.json()["must_change_password"] is True


def test_the_last_active_admin_is_kept(client: TestClient, app_settings: AppSettings) -> None:
    admin = admin_headers(client)
    demoted = client.put("/api/users/admin", headers=admin, json={"role": "staff"})
    assert demoted.status_code == 409
    assert demoted.json()["detail"]["code"] == "last_admin"
    assert "最后一位" in demoted.json()["detail"]["message"]
    # a second admin may be removed by the first, and then the first is the last again
    _create(
        client, admin, username="zhao.admin", display_name="赵", role="admin", password="x" * 12
    )
    second = login(client, "zhao.admin", "x" * 12)
    itself = client.post("/api/users/zhao.admin/deactivate", headers=second)
    assert itself.status_code == 409 and itself.json()["detail"]["code"] == "self_deactivation"
    assert client.post("/api/users/admin/deactivate", headers=second).status_code == 200
    refused = client.put("/api/users/zhao.admin", headers=second, json={"role": "expert"})
    assert refused.status_code == 409
    with session_for(app_settings) as session:
        roles = session.scalars(select(AuditEntry.action).where(AuditEntry.action == "user.update"))
        assert list(roles) == []  # nothing refused was recorded as done


def test_a_deactivated_expert_hands_consultations_back_to_the_queue(
    client: TestClient, service_headers: dict[str, str], app_settings: AppSettings
) -> None:
    admin = admin_headers(client)
    zhou = make_user(client, "zhou.expert", domains=["metrology"], presence="online")
    make_user(client, "qian.expert", domains=["metrology"], presence="online")
    held = open_escalation(client, service_headers, "web:held-1", domain="metrology")
    waiting = open_escalation(client, service_headers, "web:wait-1", domain="metrology")
    assert client.post(f"/api/escalations/{held['id']}/claim", headers=zhou).status_code == 200
    assert "zhou.expert" in waiting["offered_to"]

    done = client.post("/api/users/zhou.expert/deactivate", headers=admin).json()
    assert done["consultations_requeued"] == [held["id"]]
    back = client.get(f"/api/escalations/{held['id']}", headers=admin).json()
    assert (back["status"], back["expert"], back["offered_to"]) == ("waiting", None, [])
    other = client.get(f"/api/escalations/{waiting['id']}", headers=admin).json()
    assert other["offered_to"] == ["qian.expert"]
    experts = client.get("/api/experts", headers=admin).json()["items"]
    assert [e["username"] for e in experts] == ["qian.expert"]  # out of the routing pool
    # a new consultation of the domain is offered only to the active colleague
    new = open_escalation(client, service_headers, "web:new-1", domain="metrology")
    assert new["offered_to"] == ["qian.expert"]
    with session_for(app_settings) as session:
        step = session.scalars(
            select(EscalationEvent)
            .where(EscalationEvent.escalation_id == held["id"])
            .order_by(EscalationEvent.id.desc())
        ).first()
        assert step is not None
        assert (step.from_status, step.to_status, step.actor) == ("claimed", "waiting", "admin")
        assert "账户已停用" in step.note
    # and a colleague takes it as any waiting consultation
    qian = login(client, "qian.expert", "a-long-password")
    assert client.post(f"/api/escalations/{held['id']}/claim", headers=qian).status_code == 200


def test_a_deactivated_users_live_stream_closes(client: TestClient) -> None:
    admin = admin_headers(client)
    staff = make_user(client, "wang.staff", "staff")
    ticket = client.post("/api/console/stream-ticket", headers=staff).json()["ticket"]
    lines: list[str] = []
    opened, ended = threading.Event(), threading.Event()
    closed_after: list[float] = []

    def pump() -> None:
        with client.stream("GET", "/api/console/stream", params={"ticket": ticket}) as response:
            assert response.status_code == 200
            for line in response.iter_lines():
                lines.append(line)
                opened.set()
        closed_after.append(time.monotonic())
        ended.set()  # the server ended the body: the stream is closed

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    assert opened.wait(10)
    started = time.monotonic()
    assert client.post("/api/users/wang.staff/deactivate", headers=admin).status_code == 200
    assert ended.wait(10), "the stream stayed open"
    assert "event: session_ended" in lines
    assert closed_after[0] - started < 3.0  # woken by the change, at worst one poll (2 s)
    # the browser's reconnect with the same ticket, and a new ticket, are refused
    again = client.get("/api/console/stream", params={"ticket": ticket})
    assert again.status_code == 401


def test_an_expert_given_another_role_hands_consultations_back(
    client: TestClient, service_headers: dict[str, str]
) -> None:
    admin = admin_headers(client)
    zhou = make_user(client, "zhou.expert", domains=["testing"], presence="online")
    held = open_escalation(client, service_headers, "web:role-1", domain="testing")
    assert client.post(f"/api/escalations/{held['id']}/claim", headers=zhou).status_code == 200
    moved = client.put("/api/users/zhou.expert", headers=admin, json={"role": "staff"})
    assert moved.status_code == 200, moved.text
    back = client.get(f"/api/escalations/{held['id']}", headers=admin).json()
    assert (back["status"], back["expert"]) == ("waiting", None)
    assert client.get("/api/experts", headers=admin).json()["items"] == []
    # the same login goes on, now as staff: the desk opens, the expert's own route does not
    assert client.get("/api/demands", headers=zhou).status_code == 200
    presence = client.put("/api/experts/me/presence", headers=zhou, json={"presence": "online"})
    assert presence.status_code == 403
