"""The audit log admins read: logins, failures, account changes and the desk's own entries in
one list, filtered by actor, action, subject and period, newest first, in pages; no personal data;
the rate of failed logins."""

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from .console import admin_headers, make_user
from .staff import login

DEMAND = {
    "conversation_id": "web:audit-1",
    "need_text": "压力表校准",
    "product": "压力表",
    "place": "无锡市新吴区",
    "contact_name": "李娜",
    "contact_mobile": "13800001111",
}


def _fail(client: TestClient, username: str, password: str = "wrong-password") -> int:
    body = {"username": username, "password": password}
    return client.post("/api/auth/login", json=body).status_code


def test_one_log_of_logins_accounts_and_cases_newest_first(
    client: TestClient, service_headers: dict[str, str]
) -> None:
    admin = admin_headers(client)
    staff = make_user(client, "wang.staff", "staff")
    assert _fail(client, "wang.staff", "Secret-Typo-99") == 401
    assert _fail(client, "13912345678") == 401  # a mobile typed into the name field
    assert client.post("/api/demands", json=DEMAND, headers=service_headers).status_code == 201
    assert client.post("/api/auth/logout", headers=staff).status_code == 204

    page = client.get("/api/audit", headers=admin, params={"page_size": 100}).json()
    actions = [e["action"] for e in page["items"]]
    assert actions[:4] == ["auth.logout", "demand.create", "auth.login_failed", "auth.login_failed"]
    assert "user.create" in actions and actions.count("auth.login") == 3  # admin ×2, staff
    assert page["total"] == len(page["items"])
    ids = [e["id"] for e in page["items"]]
    assert ids == sorted(ids, reverse=True)
    logout = page["items"][0]
    assert (logout["actor"], logout["subject"], logout["action_label"]) == (
        "wang.staff",
        "user:wang.staff",
        "退出登录",
    )
    # never a password, never a full mobile
    assert "Secret-Typo-99" not in str(page) and "13912345678" not in str(page)
    assert "13800001111" not in str(page)
    tried = next(e for e in page["items"] if e["subject"].startswith("login:"))
    assert tried["subject"] == "login:139****5678"

    # filters: actor, action (exact or area), subject part, period, paging
    def items(**params: object) -> list[dict[str, object]]:
        answer = client.get("/api/audit", headers=admin, params=params)
        assert answer.status_code == 200, answer.text
        found: list[dict[str, object]] = answer.json()["items"]
        return found

    assert {e["actor"] for e in items(actor="wang.staff")} == {"wang.staff"}
    assert [e["action"] for e in items(action="auth.login_failed")] == ["auth.login_failed"] * 2
    assert {str(e["action"]).split(".")[0] for e in items(action="auth.")} == {"auth"}
    assert [e["action"] for e in items(subject="wang.staff", action="user.")] == ["user.create"]
    assert [e["action"] for e in items(subject="XQ")] == ["demand.create"]
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert items(since=later) == []
    earlier = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    assert len(items(since=earlier, until=later)) == page["total"]
    first = client.get("/api/audit", headers=admin, params={"page_size": 2}).json()
    second = client.get("/api/audit", headers=admin, params={"page_size": 2, "page": 2}).json()
    assert [e["id"] for e in first["items"]] == [e["id"] for e in page["items"][:2]]
    assert [e["id"] for e in second["items"]] == [e["id"] for e in page["items"][2:4]]
    backwards = client.get("/api/audit", headers=admin, params={"since": later, "until": earlier})
    assert backwards.status_code == 422
    assert backwards.json()["detail"]["message"] == "结束时间需晚于开始时间。"


def test_the_rate_of_failed_logins(client: TestClient) -> None:
    admin = admin_headers(client)
    make_user(client, "wang.staff", "staff")
    for _ in range(3):
        assert _fail(client, "wang.staff") == 401
    assert _fail(client, "ghost") == 401
    rate = client.get("/api/audit/login-failures", headers=admin).json()
    assert (rate["last_hour"], rate["last_day"], rate["locked_now"]) == (4, 4, 0)
    assert [(s["subject"], s["failures"]) for s in rate["subjects"]] == [
        ("user:wang.staff", 3),
        ("login:ghost", 1),
    ]
    options = client.get("/api/audit/actions", headers=admin).json()
    assert {"value": "auth.login_failed", "label": "登录失败"} in options
    assert {"value": "auth.", "label": "登录（全部）"} in options
    login(client, "wang.staff", "a-long-password")
