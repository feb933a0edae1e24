"""Brute force: five failed logins under one name within 15 minutes lock it for 15 minutes
(HTTP 429, Retry-After, a Chinese message), the right password too; in the audit log."""

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from app.settings import AppSettings
from desk.audit import entries_for
from desk.clock import now
from desk.users import lockout, service

from .console import admin_headers, make_user, session_for
from .staff import login

WRONG = {"username": "wang.staff", "password": "wrong-password"}
RIGHT = {"username": "wang.staff", "password": "a-long-password"}


def test_five_failures_lock_the_name(client: TestClient, app_settings: AppSettings) -> None:
    make_user(client, "wang.staff", "staff")
    answers = [client.post("/api/auth/login", json=WRONG).status_code for _ in range(5)]
    assert answers == [401] * 5
    locked = client.post("/api/auth/login", json=RIGHT)
    assert locked.status_code == 429
    assert locked.json()["detail"]["code"] == "login_locked"
    assert (
        locked.json()["detail"]["message"]
        == "登录失败次数过多，该账户已暂时锁定，请 15 分钟后再试。"
    )
    assert 840 < int(locked.headers["Retry-After"]) <= 900
    admin = admin_headers(client)  # another name is not locked
    rate = client.get("/api/audit/login-failures", headers=admin).json()
    assert rate["locked_now"] == 1 and rate["subjects"][0]["locked_until"]
    listed = client.get("/api/users/wang.staff", headers=admin).json()
    assert listed["locked_until"] == rate["subjects"][0]["locked_until"]
    with session_for(app_settings) as session:
        actions = [e.action for e in entries_for(session, subject="user:wang.staff")]
    assert actions[-6:] == ["auth.login_failed"] * 5 + ["auth.login_locked"]

    # an admin's reset unlocks it at once (the one who knows the new password may log in)
    reset = client.post("/api/users/wang.staff/reset-password", headers=admin).json()
    login(client, "wang.staff", reset["generated_password"])
    assert client.get("/api/users/wang.staff", headers=admin).json()["locked_until"] is None


def test_an_unknown_name_locks_alike(client: TestClient) -> None:
    for _ in range(5):
        assert (
            client.post("/api/auth/login", json={"username": "ghost", "password": "x"}).status_code
            == 401
        )
    answer = client.post("/api/auth/login", json={"username": "ghost", "password": "x"})
    assert answer.status_code == 429  # nobody learns from the lock whether the name exists


def test_the_lock_ends_after_its_time(app_settings: AppSettings, client: TestClient) -> None:
    make_user(client, "wang.staff", "staff")
    start = now()
    with session_for(app_settings) as session:
        for minute in range(5):
            with pytest.raises(service.LoginFailed):
                service.login(
                    session,
                    username="wang.staff",
                    password="wrong",
                    moment=start + timedelta(minutes=minute),
                )
        with pytest.raises(lockout.LoginLocked) as locked:
            service.login(
                session,
                username="wang.staff",
                password="a-long-password",
                moment=start + timedelta(minutes=6),
            )
        assert locked.value.retry_after_s == 13 * 60
        # failures spread over more than the window do not add up
        free = start + timedelta(minutes=4, seconds=lockout.LOCK_FOR.seconds + 1)
        service.login(session, username="wang.staff", password="a-long-password", moment=free)
