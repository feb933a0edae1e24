"""Console logins, roles and the first admin, through the app."""

import pytest
from fastapi.testclient import TestClient

from app.main import create_desk_app
from app.settings import AppSettings

DEMAND = {
    "conversation_id": "web:roles-test-1",
    "need_text": "压力表校准",
    "product": "压力表",
    "place": "无锡市新吴区",
    "contact_name": "李娜",
    "contact_mobile": "13800001111",
}


def _login(client: TestClient, username: str, password: str) -> dict[str, str]:
    response = client.post("/api/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def test_first_admin_staff_and_expert_roles(app_settings: AppSettings) -> None:
    settings = app_settings
    with TestClient(create_desk_app(settings)) as client:
        admin = _login(client, "admin", "admin-pass-123")
        for username, role in [("wang.staff", "staff"), ("zhou.expert", "expert")]:
            created = client.post(
                "/api/users",
                headers=admin,
                json={
                    "username": username,
                    "display_name": username,
                    "role": role,
                    "password": "a-long-password",
                },
            )
            assert created.status_code == 201, created.text
            # the password the admin chose is never echoed; none was generated
            assert "a-long-password" not in created.text
            assert created.json()["generated_password"] is None

        staff = _login(client, "wang.staff", "a-long-password")
        expert = _login(client, "zhou.expert", "a-long-password")
        assert client.get("/api/auth/me", headers=staff).json() == {
            "username": "wang.staff",
            "role": "staff",
        }
        service = {"Authorization": f"Bearer {settings.secret('service_token')}"}
        assert (
            client.post(
                "/api/consents",
                headers=service,
                json={
                    "conversation_id": DEMAND["conversation_id"],
                    "notice_version": "v1",
                    "agreed": True,
                },
            ).status_code
            == 201
        )
        assert client.post("/api/demands", json=DEMAND, headers=service).status_code == 201
        assert client.get("/api/demands", headers=staff).status_code == 200
        forbidden = client.get("/api/demands", headers=expert)
        assert forbidden.status_code == 403
        assert forbidden.json()["detail"]["message"] == "您没有执行此操作的权限。"
        # only the bot opens demands through this endpoint; a staff user may not create users
        assert (
            client.post(
                "/api/users",
                headers=staff,
                json={
                    "username": "x.y.z",
                    "display_name": "x",
                    "role": "admin",
                    "password": "0123456789",
                },
            ).status_code
            == 403
        )

        assert client.post("/api/auth/logout", headers=staff).status_code == 204
        assert client.get("/api/auth/me", headers=staff).status_code == 401


def test_wrong_password_is_refused_in_chinese(client: TestClient) -> None:
    response = client.post("/api/auth/login", json={"username": "admin", "password": "nope"})
    assert response.status_code == 401
    assert response.json()["detail"]["message"] == "用户名或密码错误。"


def test_generated_admin_password_is_printed_once(
    app_settings: AppSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = app_settings.model_copy(update={"admin_password": None})
    with TestClient(create_desk_app(settings)):
        pass
    first = capsys.readouterr().out
    assert "初始密码" in first
    with TestClient(create_desk_app(settings)):
        pass
    assert "初始密码" not in capsys.readouterr().out
