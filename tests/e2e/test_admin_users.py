"""User administration in a real browser on the real stack: an admin creates a staff account
(the generated password shown once), the new staff member logs in and must change it; the admin
deactivates them and their open console goes to the login page by itself (its live stream ends);
the admin filters the audit log to that login. Screenshots under var/screenshots/admin-users/.
"""

import re
import secrets
import shutil
import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect, sync_playwright

from app.stack import Stack
from desk.audit import entries_for
from desk.db import get_sessionmaker
from desk.paths import REPO_ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
DESKTOP = {"width": 1366, "height": 768}
SHOTS = REPO_ROOT / "var" / "screenshots" / "admin-users"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


def _login(page: Any, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/console/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def test_admin_creates_deactivates_and_audits_a_staff_account(stack: Stack, browser: Any) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    base = stack.settings.desk_url
    password = stack.settings.admin_password
    assert password is not None
    username = f"chen.{secrets.token_hex(3)}"

    # the admin creates the account; the generated password is shown once
    admin = browser.new_context(viewport=DESKTOP, locale="zh-CN").new_page()
    _login(admin, base, stack.settings.admin_user, password.get_secret_value())
    expect(admin.get_by_text("系统管理")).to_be_visible(timeout=20_000)  # the admin's menu
    admin.goto(f"{base}/console/users")
    expect(admin.get_by_role("heading", name="用户管理")).to_be_visible(timeout=20_000)
    admin.get_by_role("button", name="新建账户").click()
    form = admin.get_by_role("dialog", name="新建账户")
    form.get_by_label("用户名").fill(username)
    form.get_by_label("姓名").fill("陈静")
    admin.wait_for_timeout(400)  # the dialog's fade-in
    admin.screenshot(path=SHOTS / "00-create-form.png")
    form.get_by_role("button", name="创建").click()
    shown = admin.get_by_role("dialog", name="账户已创建")
    expect(shown.get_by_text("密码仅显示这一次")).to_be_visible()
    generated = shown.get_by_label("初始密码").input_value()
    assert len(generated) == 16
    admin.wait_for_timeout(400)  # the dialog's fade-in
    admin.screenshot(path=SHOTS / "01-password-shown-once.png")
    shown.get_by_role("button", name="我已记下，关闭").click()
    row = admin.locator(".el-table__row").filter(has_text=username)
    expect(row.get_by_text("待改密码")).to_be_visible()

    # the staff member logs in and must change the password first
    staff = browser.new_context(viewport=DESKTOP, locale="zh-CN").new_page()
    _login(staff, base, username, generated)
    expect(staff.get_by_text("请先修改密码")).to_be_visible(timeout=20_000)
    staff.screenshot(path=SHOTS / "02-must-change-password.png")
    own = "chen-own-" + secrets.token_hex(4)
    staff.get_by_label("当前密码").fill(generated)
    staff.get_by_label("新密码（至少 10 位）").fill(own)
    staff.get_by_label("确认新密码").fill(own)
    staff.get_by_role("button", name="确认修改").click()
    expect(staff).not_to_have_url(re.compile("password"), timeout=20_000)
    expect(staff.get_by_text("系统管理")).to_have_count(0)  # not an admin
    staff.screenshot(path=SHOTS / "03-staff-console.png")

    # the admin deactivates the account (with a confirmation); the open console logs out
    admin.reload()
    row = admin.locator(".el-table__row").filter(has_text=username)
    expect(row.get_by_text("待改密码")).to_have_count(0)
    row.get_by_role("button", name="停用").click()
    confirm = admin.get_by_role("dialog", name="停用账户")
    expect(confirm.get_by_text("将立即退出登录")).to_be_visible()
    admin.wait_for_timeout(400)
    admin.screenshot(path=SHOTS / "04-deactivate-confirm.png")
    confirm.get_by_role("button", name="停用").click()
    started = time.monotonic()
    expect(row.get_by_text("已停用")).to_be_visible()
    expect(staff.get_by_role("button", name="登录")).to_be_visible(timeout=20_000)
    to_login_s = time.monotonic() - started
    staff.screenshot(path=SHOTS / "05-staff-sent-to-login.png")
    admin.screenshot(path=SHOTS / "06-users-list.png")

    # and cannot log in again, with a clear message
    staff.get_by_label("用户名").fill(username)
    staff.get_by_label("密码").fill(own)
    staff.get_by_role("button", name="登录").click()
    expect(staff.get_by_text("该账户已停用，请联系管理员。")).to_be_visible()
    staff.screenshot(path=SHOTS / "07-login-refused.png")

    # the admin filters the audit log to that login
    admin.goto(f"{base}/console/audit")
    expect(admin.get_by_role("heading", name="审计日志")).to_be_visible()
    admin.get_by_label("操作人").fill(username)
    action = admin.locator(".el-form-item").filter(has=admin.get_by_text("操作", exact=True))
    action.locator(".el-select").click()
    admin.get_by_role("option", name="登录成功").click()
    admin.get_by_role("button", name="查询").click()
    rows = admin.locator(".el-table__body .el-table__row")
    expect(rows).to_have_count(1)  # one login (the refused one is another action)
    expect(rows.first).to_contain_text("登录成功")
    expect(rows.first).to_contain_text(f"user:{username}")
    expect(admin.locator(".el-loading-mask")).to_have_count(0)
    admin.screenshot(path=SHOTS / "08-audit-filtered.png")
    admin.get_by_role("button", name="重置").click()
    expect(rows.first).to_contain_text("停用账户尝试登录")  # the refused login, newest first
    expect(admin.get_by_text("结束登录数：1")).to_be_visible()  # the deactivation's details
    expect(admin.locator(".el-loading-mask")).to_have_count(0)
    admin.screenshot(path=SHOTS / "09-audit-all.png")

    assert stack.settings.database_url
    with get_sessionmaker(stack.settings.database_url)() as session:
        actions = [e.action for e in entries_for(session, subject=f"user:{username}")]
    assert actions == [
        "user.create",
        "auth.login",
        "auth.password_change",
        "user.deactivate",
        "auth.login_disabled",
    ]
    print(f"\nconsole sent to the login page {to_login_s:.1f} s after the deactivation")
    assert to_login_s < 15
