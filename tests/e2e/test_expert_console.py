"""质量门诊 on the real stack in two real browsers: an enterprise on the web chat, an expert in
the console (Debian's Chromium driven by Playwright).

转人工 → the queue's live row, the tab title's count and a notification → claim → the
transcript → a canned reply inserted with `/` → a private note that never reaches the
enterprise → the reply on the enterprise's screen → hand back → the bot greets the user back and
its tracker holds the expert's words. The times from 转人工 to the expert's row and from the
expert's send to the enterprise's screen are measured and printed; screenshots of the console
are saved under the test's folder.
"""

import re
import secrets
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright
from sqlalchemy import select

from app.stack import Stack
from desk.audit import entries_for
from desk.consultations.models import ConsultationNote
from desk.db import get_sessionmaker
from desk.demands.models import Demand
from desk.escalations.models import Escalation

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
EXPERT = "liu.expert"
EXPERT_PASSWORD = "expert-pass-" + secrets.token_hex(4)
REPLY = "压力表属于强制检定计量器具，请联系当地法定计量技术机构预约送检。"
NOTE = "内部备注：该企业去年有一次逾期送检，注意提醒。"


def _admin(stack: Stack) -> dict[str, str]:
    password = stack.settings.admin_password
    assert password is not None, "e2e settings give the first admin a password"
    token = httpx.post(
        f"{stack.settings.desk_url}/api/auth/login",
        json={"username": stack.settings.admin_user, "password": password.get_secret_value()},
        timeout=10,
    ).json()["token"]
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def expert(stack: Stack) -> str:
    """An expert of 计量 (metrology), and a shared canned reply keyed /送检."""
    base, admin = stack.settings.desk_url, _admin(stack)
    created = httpx.post(
        f"{base}/api/users",
        headers=admin,
        json={
            "username": EXPERT,
            "display_name": "刘工",
            "role": "expert",
            "password": EXPERT_PASSWORD,
        },
        timeout=10,
    )
    assert created.status_code in (201, 422), created.text
    domains = httpx.put(
        f"{base}/api/experts/{EXPERT}/domains", headers=admin, json={"domains": ["metrology"]}
    )
    assert domains.status_code == 200, domains.text
    canned = httpx.post(
        f"{base}/api/canned-replies",
        headers=admin,
        json={"shortcut": "送检", "title": "强制检定送检", "text": REPLY, "scope": "shared"},
        timeout=10,
    )
    assert canned.status_code in (201, 422), canned.text
    return EXPERT


@pytest.fixture(autouse=True)
def empty_queue(stack: Stack) -> None:
    """Other end-to-end tests of the session leave consultations open: each test here starts
    with an empty queue (a supervisor hands them back), so the row it claims is its own."""
    base, admin = stack.settings.desk_url, _admin(stack)
    for status in ("waiting", "claimed"):
        listed = httpx.get(
            f"{base}/api/escalations", headers=admin, params={"status": status}, timeout=10
        )
        for item in listed.json()["items"]:
            closed = httpx.post(
                f"{base}/api/escalations/{item['id']}/release",
                headers=admin,
                json={"note": "测试前清空队列"},
                timeout=10,
            )
            assert closed.status_code == 200, closed.text


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


def _tracker(stack: Stack, conversation_id: str) -> dict[str, Any]:
    response = httpx.get(
        f"{stack.settings.rasa_url}/conversations/{conversation_id}/tracker",
        params={"token": stack.settings.secret("rasa_token")},
        timeout=10,
    )
    response.raise_for_status()
    tracker: dict[str, Any] = response.json()
    return tracker


def _escalation(stack: Stack, conversation_id: str) -> Escalation | None:
    assert stack.settings.database_url
    with get_sessionmaker(stack.settings.database_url)() as session:
        return session.scalars(
            select(Escalation)
            .where(Escalation.conversation_id == conversation_id)
            .order_by(Escalation.id.desc())
        ).first()


def _enterprise_says(page: Any, text: str) -> None:
    before = page.locator(".msg.bot, .msg.system, .msg.expert").count()
    page.fill("#text", text)
    page.click("#send")
    page.wait_for_function(
        "n => document.querySelectorAll('.msg.bot, .msg.system, .msg.expert').length > n",
        arg=before,
        timeout=60_000,
    )
    page.wait_for_selector("#typing", state="hidden", timeout=60_000)


def test_a_whole_consultation_on_the_web_channel(
    stack: Stack, expert: str, browser: Any, tmp_path: Path
) -> None:
    base = stack.settings.desk_url
    shots = tmp_path / "screenshots"
    shots.mkdir()

    # the expert logs in, goes online and keeps the console open
    console = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    console.grant_permissions(["notifications"], origin=base)
    console.add_init_script(
        "window.__notes = []; window.Notification = class { constructor(t, o) {"
        " window.__notes.push(t + ' ' + ((o && o.body) || '')) }"
        " static get permission() { return 'granted' }"
        " static requestPermission() { return Promise.resolve('granted') } };"
    )
    desk = console.new_page()
    desk.goto(f"{base}/console/")
    desk.get_by_label("用户名").fill(expert)
    desk.get_by_label("密码").fill(EXPERT_PASSWORD)
    desk.get_by_role("button", name="登录").click()
    expect(desk.get_by_text("待认领")).to_be_visible(timeout=20_000)
    presence = desk.get_by_role("switch", name="在线状态")
    if presence.get_attribute("aria-checked") != "true":
        presence.locator("xpath=..").click()  # the switch's visible track
    expect(presence).to_have_attribute("aria-checked", "true")
    desk.screenshot(path=shots / "01-queue-empty.png")

    # the enterprise states a need on its phone, then asks for a person
    chat_context = browser.new_context(viewport=PHONE, locale="zh-CN")
    chat = chat_context.new_page()
    chat.goto(f"{base}/")
    chat.wait_for_selector("#text")
    _enterprise_says(chat, "锅炉上的压力表需要检定，去哪里送检？")
    conversation_id = chat.evaluate("localStorage.getItem('qclinic.conversation_id')")
    asked = time.perf_counter()
    _enterprise_says(chat, "转人工")

    # the expert's queue shows it live, with a count in the tab title and a notification
    row = desk.locator(".el-table__row").filter(has_text="认领").first
    expect(row).to_be_visible(timeout=20_000)
    to_expert_s = time.perf_counter() - asked
    expect(desk).to_have_title(re.compile(r"^\(\d+\) "))
    assert desk.evaluate("window.__notes.length") >= 1
    desk.screenshot(path=shots / "02-queue-new-escalation.png")
    escalation = _escalation(stack, conversation_id)
    assert escalation is not None and escalation.status == "waiting"
    assert escalation.domain == "metrology"  # routed by the need's domain

    row.get_by_role("button", name="认领").click()
    expect(desk.get_by_text("锅炉上的压力表需要检定，去哪里送检？").first).to_be_visible()
    escalation = _escalation(stack, conversation_id)
    assert escalation is not None and (escalation.status, escalation.expert) == ("claimed", expert)

    # a private note: shown in the console, never sent
    desk.get_by_role("radio", name="私密备注").check(force=True)
    box = desk.get_by_role("textbox", name="私密备注")
    box.fill(NOTE)
    desk.get_by_role("button", name="添加备注").click()
    # the stored note (its pending bubble stays until the POST answers, which can come after the
    # live stream already showed the line on a busy machine)
    expect(desk.locator(".bubble:not(.pending)", has_text=NOTE)).to_be_visible()

    # a canned reply inserted with /送检, then sent
    desk.get_by_role("radio", name="回复").check(force=True)
    reply_box = desk.get_by_role("textbox", name="回复内容")
    reply_box.fill("/送检")
    desk.get_by_text("强制检定送检").first.click()
    expect(reply_box).to_have_value(re.compile("强制检定计量器具"))
    desk.screenshot(path=shots / "03-reply-ready.png")
    sent = time.perf_counter()
    reply_box.press("Enter")
    expect(chat.locator(".msg.expert .bubble").filter(has_text="强制检定计量器具")).to_be_visible(
        timeout=20_000
    )
    to_enterprise_s = time.perf_counter() - sent
    expect(desk.get_by_text("已发送").last).to_be_visible(timeout=10_000)
    desk.screenshot(path=shots / "04-reply-sent.png")
    assert NOTE not in chat.content()
    history = httpx.get(
        f"{base}/api/chat/history", params={"conversation_id": conversation_id}, timeout=10
    ).json()["messages"]
    assert any(REPLY in m["text"] and m["sender"] == "expert" for m in history)
    assert not any(NOTE in m["text"] for m in history)
    assert stack.settings.database_url
    with get_sessionmaker(stack.settings.database_url)() as session:
        notes = session.scalars(
            select(ConsultationNote.text).where(ConsultationNote.conversation_id == conversation_id)
        ).all()
    assert notes == [NOTE]

    # the enterprise answers; the expert sees it
    chat.fill("#text", "好的，谢谢专家")
    chat.click("#send")
    expect(desk.get_by_text("好的，谢谢专家")).to_be_visible(timeout=20_000)

    # hand back to the bot with the outcome
    desk.get_by_role("button", name="结束咨询").first.click()
    dialog = desk.get_by_role("dialog")
    dialog.get_by_text("已解答").click()
    desk.screenshot(path=shots / "05-close-dialog.png")
    dialog.get_by_role("button", name="结束咨询").click()
    expect(chat.locator(".msg.bot .bubble").filter(has_text="专家已结束本次咨询")).to_be_visible(
        timeout=30_000
    )
    escalation = _escalation(stack, conversation_id)
    assert escalation is not None
    assert (escalation.status, escalation.outcome) == ("closed", "answered")

    # the bot's tracker holds the expert's words as bot turns with metadata
    tracker = _tracker(stack, conversation_id)
    expert_turns = [
        e
        for e in tracker["events"]
        if e["event"] == "bot" and (e.get("metadata") or {}).get("qclinic_expert") == expert
    ]
    assert [e["text"] for e in expert_turns] == [REPLY]
    outcomes = [
        e["value"]
        for e in tracker["events"]
        if e["event"] == "slot" and e["name"] == "handoff_outcome"
    ]
    assert outcomes == ["answered", None]  # told to the bot, then reset by action_handoff_back
    assert REPLY[:20] in (tracker["slots"].get("handoff_expert_said") or "")

    # and the bot answers the next message itself
    _enterprise_says(chat, "检定需要带什么材料？")
    assert tracker["latest_message"]["text"] != "检定需要带什么材料？"
    latest = _tracker(stack, conversation_id)["latest_message"]
    assert latest["text"] == "检定需要带什么材料？"
    chat.screenshot(path=shots / "06-enterprise-chat.png")
    desk.screenshot(path=shots / "07-console-after-close.png")
    print(
        f"\n转人工 → expert's queue row: {to_expert_s * 1000:.0f} ms; "
        f"expert's send → enterprise's screen: {to_enterprise_s * 1000:.0f} ms; "
        f"screenshots: {shots}"
    )


def test_an_expired_session_goes_back_to_login_and_keeps_the_draft(
    stack: Stack, expert: str, browser: Any, tmp_path: Path
) -> None:
    """The login ends while the expert is typing: the send goes back to the login page, and
    after logging in again the same consultation opens with the draft in the reply box."""
    base = stack.settings.desk_url
    conversation_id = f"web:draft-{secrets.token_hex(6)}"
    bot = {"Authorization": f"Bearer {stack.settings.secret('service_token')}"}
    created = httpx.post(
        f"{base}/api/escalations",
        headers=bot,
        json={"conversation_id": conversation_id, "summary": "用户：电子秤需要校准吗？"},
        timeout=10,
    )
    assert created.status_code == 201, created.text
    escalation_id = created.json()["id"]

    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    desk = context.new_page()
    desk.goto(f"{base}/console/")
    desk.get_by_label("用户名").fill(expert)
    desk.get_by_label("密码").fill(EXPERT_PASSWORD)
    desk.get_by_role("button", name="登录").click()
    row = desk.locator(".el-table__row").filter(has_text="认领").first
    expect(row).to_be_visible(timeout=20_000)
    row.get_by_role("button", name="认领").click()
    box = desk.get_by_role("textbox", name="回复内容")
    expect(box).to_be_enabled(timeout=10_000)
    draft = "电子秤用于贸易结算时属于强制检定，请"
    box.fill(draft)

    token = desk.evaluate("localStorage.getItem('qclinic.console.token')")
    ended = httpx.post(
        f"{base}/api/auth/logout", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert ended.status_code == 204
    box.press("Enter")
    expect(desk.get_by_role("button", name="登录")).to_be_visible(timeout=10_000)
    desk.screenshot(path=tmp_path / "session-expired.png")

    desk.get_by_label("用户名").fill(expert)
    desk.get_by_label("密码").fill(EXPERT_PASSWORD)
    desk.get_by_role("button", name="登录").click()
    expect(desk).to_have_url(re.compile(rf"/console/consultations/{escalation_id}"))
    expect(desk.get_by_role("textbox", name="回复内容")).to_have_value(draft, timeout=10_000)
    history = httpx.get(
        f"{base}/api/chat/history", params={"conversation_id": conversation_id}, timeout=10
    ).json()["messages"]
    assert not any(draft in m["text"] for m in history)  # nothing was sent meanwhile
    context.close()


def test_the_expert_opens_a_demand_and_the_bot_reports_its_progress(
    stack: Stack, expert: str, browser: Any, tmp_path: Path
) -> None:
    """The expert opens a demand from the console, prefilled from the conversation, and closes
    with 已提交需求; back with the bot, the enterprise asks for progress and gets that demand."""
    base = stack.settings.desk_url
    chat = browser.new_context(viewport=PHONE, locale="zh-CN").new_page()
    chat.goto(f"{base}/")
    chat.wait_for_selector("#text")
    _enterprise_says(chat, "锅炉上的压力表需要检定")
    conversation_id = chat.evaluate("localStorage.getItem('qclinic.conversation_id')")
    _enterprise_says(chat, "转人工")

    desk = browser.new_context(viewport=DESKTOP, locale="zh-CN").new_page()
    desk.goto(f"{base}/console/")
    desk.get_by_label("用户名").fill(expert)
    desk.get_by_label("密码").fill(EXPERT_PASSWORD)
    desk.get_by_role("button", name="登录").click()
    row = desk.locator(".el-table__row").filter(has_text="认领").first
    expect(row).to_be_visible(timeout=20_000)
    row.get_by_role("button", name="认领").click()

    desk.get_by_role("button", name="为企业提交需求").click()
    dialog = desk.get_by_role("dialog", name="为企业提交需求")
    expect(dialog.get_by_label("产品/项目")).to_have_value("压力表", timeout=10_000)
    dialog.get_by_label("所在地").fill("无锡市新吴区")
    dialog.get_by_label("联系人").fill("王工")
    dialog.get_by_label("手机号").fill("13912345678")
    desk.screenshot(path=tmp_path / "demand-dialog.png")
    dialog.get_by_role("button", name="提交需求").click()
    expect(dialog).to_be_hidden(timeout=10_000)

    assert stack.settings.database_url
    with get_sessionmaker(stack.settings.database_url)() as session:
        [demand] = session.scalars(select(Demand).where(Demand.conversation_id == conversation_id))
        assert (demand.product, demand.place, demand.recommended_by) == (
            "压力表",
            "无锡市新吴区",
            "staff",
        )
        actors = [e.actor for e in entries_for(session, subject=demand.number)]
    assert actors == [expert]  # opened by the expert, on the desk's record

    desk.get_by_role("button", name="结束咨询").first.click()
    close = desk.get_by_role("dialog", name="结束咨询")
    close.get_by_text("已提交需求").click()
    close.get_by_role("button", name="结束咨询").click()
    expect(chat.locator(".msg.bot .bubble").filter(has_text="已为您在平台登记需求")).to_be_visible(
        timeout=30_000
    )
    _enterprise_says(chat, "查进度")
    expect(chat.locator(".msg.bot .bubble").filter(has_text=demand.number).last).to_be_visible()
    chat.screenshot(path=tmp_path / "progress-after-handback.png")
