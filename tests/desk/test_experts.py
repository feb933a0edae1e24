"""Console users' profile and password, experts' domains and presence, through the app."""

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.main import create_desk_app
from app.settings import AppSettings
from desk.live.models import ConsoleEvent

from .console import PASSWORD, admin_headers, claim, detail, make_user, open_escalation, session_for
from .staff import login


def test_profile_of_each_console_user(client: TestClient, service_headers: dict[str, str]) -> None:
    admin = admin_headers(client)
    profile = client.get("/api/auth/profile", headers=admin)
    assert profile.status_code == 200
    assert profile.json() == {
        "username": "admin",
        "display_name": "管理员",
        "role": "admin",
        "must_change_password": False,  # the configured password is not a printed one
        "domains": [],
        "presence": "away",
    }
    expert = make_user(
        client, "zhang.expert", display_name="张工", domains=["metrology"], presence="online"
    )
    mine = client.get("/api/auth/profile", headers=expert).json()
    assert (mine["display_name"], mine["role"]) == ("张工", "expert")
    assert (mine["domains"], mine["presence"]) == (["metrology"], "online")

    assert client.get("/api/auth/profile", headers=service_headers).status_code == 403
    assert client.get("/api/auth/profile").status_code == 401


def test_the_first_admin_with_a_printed_password_must_change_it(
    app_settings: AppSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = app_settings.model_copy(update={"admin_password": None})
    with TestClient(create_desk_app(settings)) as client:
        printed = re.search(r"初始密码 (\S+)（", capsys.readouterr().out)
        assert printed is not None
        first = printed.group(1)
        answer = client.post("/api/auth/login", json={"username": "admin", "password": first})
        assert answer.status_code == 200 and answer.json()["must_change_password"] is True
        admin = {"Authorization": f"Bearer {answer.json()['token']}"}
        assert client.get("/api/auth/profile", headers=admin).json()["must_change_password"]
        # nothing else until it is changed: the API refuses, not only the console
        refused = client.get("/api/escalations", headers=admin)
        assert detail(refused) == (
            403,
            "password_change_required",
            "请先修改初始密码，再继续使用控制台。",
        )
        assert client.get("/api/demands", headers=admin).status_code == 403

        def change(current: str, new: str) -> tuple[int, str, str] | int:
            response = client.post(
                "/api/auth/password",
                headers=admin,
                json={"current_password": current, "new_password": new},
            )
            return response.status_code if response.status_code == 204 else detail(response)

        assert change("wrong-password", "a-new-long-password") == (
            422,
            "wrong_password",
            "当前密码不正确。",
        )
        assert change(first, "short") == (422, "password_rejected", "新密码至少需要 10 位。")
        assert change(first, first) == (422, "password_rejected", "新密码不能与当前密码相同。")
        assert client.get("/api/auth/profile", headers=admin).json()["must_change_password"]

        assert change(first, "a-new-long-password") == 204
        assert (
            client.get("/api/auth/profile", headers=admin).json()["must_change_password"] is False
        )
        assert client.get("/api/escalations", headers=admin).status_code == 200
        again = client.post("/api/auth/login", json={"username": "admin", "password": first})
        assert again.status_code == 401
        assert login(client, "admin", "a-new-long-password")
        # the old password no longer proves who it is
        assert change(first, "another-long-password") == (
            422,
            "wrong_password",
            "当前密码不正确。",
        )


def test_password_change_needs_a_console_login(
    client: TestClient, service_headers: dict[str, str]
) -> None:
    body = {"current_password": PASSWORD, "new_password": "a-new-long-password"}
    assert client.post("/api/auth/password", json=body).status_code == 401
    assert client.post("/api/auth/password", headers=service_headers, json=body).status_code == 403
    expert = make_user(client, "li.expert")
    assert client.post("/api/auth/password", headers=expert, json=body).status_code == 204
    assert login(client, "li.expert", "a-new-long-password")


def test_admin_sets_an_experts_domains(client: TestClient, service_headers: dict[str, str]) -> None:
    admin = admin_headers(client)
    expert = make_user(client, "zhang.expert", display_name="张工")
    staff = make_user(client, "wang.staff", "staff", display_name="王敏")

    put = client.put(
        "/api/experts/zhang.expert/domains",
        headers=admin,
        json={"domains": ["testing", "metrology", "testing"]},
    )
    assert put.status_code == 200, put.text
    assert put.json()["domains"] == ["testing", "metrology"]  # in order, once each
    assert put.json()["domain_labels"] == ["检验检测", "计量"]

    unknown = client.put(
        "/api/experts/zhang.expert/domains", headers=admin, json={"domains": ["metrology", "x"]}
    )
    assert detail(unknown) == (422, "invalid_domain", "未知的领域：x。")
    not_expert = client.put(
        "/api/experts/wang.staff/domains", headers=admin, json={"domains": ["metrology"]}
    )
    assert detail(not_expert) == (422, "not_expert", "王敏 不是专家，不能设置服务领域。")
    nobody = client.put("/api/experts/nobody/domains", headers=admin, json={"domains": []})
    assert detail(nobody) == (404, "not_found", "未找到用户 nobody。")
    for headers in (expert, staff, service_headers):
        refused = client.put(
            "/api/experts/zhang.expert/domains", headers=headers, json={"domains": ["ip"]}
        )
        assert refused.status_code == 403
    listed = client.get("/api/experts", headers=staff).json()["items"]
    assert [(e["username"], e["domains"]) for e in listed] == [
        ("zhang.expert", ["testing", "metrology"])
    ]


def test_expert_presence_and_active_consultations(
    client: TestClient, service_headers: dict[str, str], app_settings: AppSettings
) -> None:
    expert = make_user(client, "zhang.expert", display_name="张工")
    make_user(client, "li.expert", display_name="李工")
    staff = make_user(client, "wang.staff", "staff")

    online = client.put("/api/experts/me/presence", headers=expert, json={"presence": "online"})
    assert online.status_code == 200
    assert (online.json()["presence"], online.json()["presence_label"]) == ("online", "在线")
    bad = client.put("/api/experts/me/presence", headers=expert, json={"presence": "busy"})
    assert bad.status_code == 422
    for headers in (staff, admin_headers(client), service_headers):
        refused = client.put("/api/experts/me/presence", headers=headers, json={"presence": "away"})
        assert refused.status_code == 403

    escalation = open_escalation(client, service_headers, "web:presence-1")
    claim(client, expert, escalation["id"])
    open_escalation(client, service_headers, "web:presence-2")  # waiting: nobody's yet

    listed = client.get("/api/experts", headers=expert)
    assert listed.status_code == 200
    rows = {e["username"]: e for e in listed.json()["items"]}
    assert rows["zhang.expert"]["presence"] == "online"
    assert rows["zhang.expert"]["active_consultations"] == 1
    assert (rows["li.expert"]["presence_label"], rows["li.expert"]["active_consultations"]) == (
        "离开",
        0,
    )
    assert "wang.staff" not in rows
    assert client.get("/api/experts", headers=service_headers).status_code == 403

    with session_for(app_settings) as session:
        kinds = [
            (e.kind, e.data)
            for e in session.scalars(select(ConsoleEvent).order_by(ConsoleEvent.id))
            if e.kind == "presence"
        ]
    assert kinds == [("presence", {"username": "zhang.expert", "presence": "online"})]
