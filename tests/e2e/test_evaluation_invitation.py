"""A completed demand invites the enterprise to evaluate it, on the web chat page, in a real
headless Chromium on the real stack (Rasa, the action server, the app): staff complete the demand
through the desk API → the page shows the invitation with its buttons → the user clicks 现在评价,
rates the three scores with the buttons and writes a comment → the evaluation row exists and the
demand is 已评价. Screenshots go to var/screenshots/invitation/."""

import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import sync_playwright
from sqlalchemy import select

from app.stack import Stack
from desk.clock import today
from desk.db import get_sessionmaker
from desk.demands import service as demands
from desk.demands.models import Demand, Evaluation
from desk.demands.schemas import DemandCreate
from desk.paths import REPO_ROOT
from tests.e2e.test_web_browser import CHROMIUM, FLAGS, PHONE, Page

SHOTS = REPO_ROOT / "var" / "screenshots" / "invitation"
TO_COMPLETED = [
    ("responded", {}),
    ("recommended", {"institution_ids": ["inst-yuancheng-cable-lab"]}),
    ("matched", {"chosen_institution_id": "inst-yuancheng-cable-lab"}),
    ("in_service", {}),
    ("completed", {"note": "检测报告已出具"}),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


def admin_headers(stack: Stack) -> dict[str, str]:
    password = stack.settings.admin_password
    assert password is not None
    answer = httpx.post(
        f"{stack.settings.desk_url}/api/auth/login",
        json={"username": stack.settings.admin_user, "password": password.get_secret_value()},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def open_demand(stack: Stack, conversation_id: str) -> str:
    """The demand the page's conversation opened earlier (its opening is tested elsewhere)."""
    assert stack.settings.database_url
    with get_sessionmaker(stack.settings.database_url)() as session:
        demand, _ = demands.create_demand(
            session,
            data=DemandCreate(
                conversation_id=conversation_id,
                channel="web",
                need_text="50根电线电缆测导体电阻",
                product="电线电缆",
                place="江阴市周庄镇",
                contact_name="王明",
                contact_mobile="13912345678",
            ),
            idempotency_key=None,
            today=today(),
        )
        return demand.number


def click_notice(chat: Page, title: str) -> str:
    before = len(chat.bubbles("bot"))
    chat.page.locator(".msg.system .buttons button").filter(has_text=title).last.click()
    return chat._answer(before)


def click_bot(chat: Page, title: str) -> str:
    return chat.click(re.compile("^" + re.escape(title)))


def test_staff_complete_the_demand_and_the_user_rates_it_on_the_page(
    stack: Stack, browser: Any
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(stack.settings.desk_url + "/")
    chat = Page(page, stack)
    page.wait_for_selector(".msg.bot")  # the greeting
    number = open_demand(stack, chat.conversation_id)

    headers = admin_headers(stack)
    for to, extra in TO_COMPLETED:
        moved = httpx.post(
            f"{stack.settings.desk_url}/api/demands/{number}/transitions",
            headers=headers,
            json={"to": to, **extra},
            timeout=20,
        )
        assert moved.status_code == 200, moved.text

    # the page's stream shows the news, the last one with the invitation and its two buttons
    invitation = page.locator(".msg.system").filter(has_text="已完成").last
    invitation.wait_for(timeout=20_000)
    assert f"编号 {number}" in invitation.inner_text() and "评价" in invitation.inner_text()
    assert invitation.locator(".buttons button").all_inner_texts() == ["现在评价", "以后再说"]
    page.screenshot(path=str(SHOTS / "01-invitation.png"), full_page=True)

    started = click_notice(chat, "现在评价")
    assert f"请为需求 {number}" in started, started  # that demand: no list to pick from
    assert "服务流程" in started
    assert "服务效率" in click_bot(chat, "5分")
    assert "服务态度" in click_bot(chat, "4分")
    assert "意见或建议" in click_bot(chat, "5分")
    thanks = chat.type("报告出得很快，工作人员很耐心")
    assert f"已记录需求 {number} 的评分：流程 5 分、效率 4 分、态度 5 分" in thanks, thanks
    page.screenshot(path=str(SHOTS / "02-rated.png"), full_page=True)

    assert stack.settings.database_url
    with get_sessionmaker(stack.settings.database_url)() as session:
        demand = session.scalar(select(Demand).where(Demand.number == number))
        assert demand is not None and demand.status == "evaluated"
        row = session.scalar(select(Evaluation).where(Evaluation.demand_id == demand.id))
        assert row is not None
        assert (row.process_score, row.efficiency_score, row.attitude_score) == (5, 4, 5)
        assert row.overall_score == 5 and row.comment == "报告出得很快，工作人员很耐心"

    # the timeline says how the enterprise was told
    detail = httpx.get(
        f"{stack.settings.desk_url}/api/desk/demands/{number}", headers=headers, timeout=10
    ).json()
    notes = [step["note"] for step in detail["timeline"]]
    assert "已通过网页会话告知企业：“已完成”。" in notes

    overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert overflow is False
    assert errors == []
    context.close()


def test_later_then_progress_from_a_new_page_by_number_and_mobile(
    stack: Stack, browser: Any
) -> None:
    """以后再说 puts the invitation off; a new conversation (another browser) asking
    「我上周提交的需求现在怎么样了」 is asked for the number and mobile, then shown the progress."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    first = browser.new_context(viewport=PHONE, device_scale_factor=2, locale="zh-CN")
    page = first.new_page()
    page.goto(stack.settings.desk_url + "/")
    chat = Page(page, stack)
    page.wait_for_selector(".msg.bot")
    number = open_demand(stack, chat.conversation_id)
    headers = admin_headers(stack)
    for to, extra in TO_COMPLETED:
        httpx.post(
            f"{stack.settings.desk_url}/api/demands/{number}/transitions",
            headers=headers,
            json={"to": to, **extra},
            timeout=20,
        ).raise_for_status()
    page.locator(".msg.system").filter(has_text="已完成").last.wait_for(timeout=20_000)
    assert "随时可以回复“评价”" in click_notice(chat, "以后再说")
    first.close()

    second = browser.new_context(viewport=PHONE, device_scale_factor=2, locale="zh-CN")
    page = second.new_page()
    page.goto(stack.settings.desk_url + "/")
    chat = Page(page, stack)
    page.wait_for_selector(".msg.bot")
    asked = chat.type("我上周提交的需求现在怎么样了")
    assert "我的需求" not in asked and "编号" in asked and "手机号" in asked, asked
    wrong = chat.type(f"{number} 13800000000")
    assert "不匹配" in wrong and "不存在" not in wrong, wrong
    chat.type("查进度")
    shown = chat.type(f"{number}，手机13912345678")
    assert f"需求 {number}" in shown and "已完成" in shown, shown
    page.screenshot(path=str(SHOTS / "03-progress-by-number.png"), full_page=True)
    time.sleep(0.2)
    # the new conversation is linked: a plain progress question now lists the demand
    listed = chat.type("查进度")
    assert number in listed, listed
    second.close()


def test_a_resolved_complaint_asks_and_not_satisfied_reopens_it(stack: Stack, browser: Any) -> None:
    """The outcome on the page with 满意 / 不满意; 不满意 → the reason → the complaint is back
    under investigation with the reason on its timeline."""
    from desk.complaints import service as complaints
    from desk.complaints.schemas import ComplaintCreate

    context = browser.new_context(viewport=PHONE, device_scale_factor=2, locale="zh-CN")
    page = context.new_page()
    page.goto(stack.settings.desk_url + "/")
    chat = Page(page, stack)
    page.wait_for_selector(".msg.bot")
    assert stack.settings.database_url
    with get_sessionmaker(stack.settings.database_url)() as session:
        complaint, _, _ = complaints.create_complaint(
            session,
            data=ComplaintCreate(
                conversation_id=chat.conversation_id,
                channel="online",
                institution_name="某检测公司",
                complaint_type="fees",
                content="检测费多收了三百元",
                demand="退还多收的费用",
                contact_name="王明",
                contact_mobile="13912345678",
            ),
            idempotency_key=None,
            today=today(),
            actor="bot",
            institutions=[],
        )
        number = complaint.number
    headers = admin_headers(stack)
    for to, extra in [
        ("investigating", {}),
        ("forwarded", {}),
        ("resolved", {"resolution": "机构已核实，将退还多收的三百元", "upheld": True}),
    ]:
        httpx.post(
            f"{stack.settings.desk_url}/api/complaints/{number}/transitions",
            headers=headers,
            json={"to": to, **extra},
            timeout=20,
        ).raise_for_status()
    outcome = page.locator(".msg.system").filter(has_text="是否满意").last
    outcome.wait_for(timeout=20_000)
    assert "机构已核实，将退还多收的三百元" in outcome.inner_text()
    assert outcome.locator(".buttons button").all_inner_texts() == ["满意", "不满意"]
    page.screenshot(path=str(SHOTS / "04-complaint-outcome.png"), full_page=True)

    asked = click_notice(chat, "不满意")
    assert "哪里不满意" in asked, asked
    done = chat.type("到现在还没有退款，机构也不接电话")
    assert f"已为您重新提交投诉 {number}" in done, done
    page.screenshot(path=str(SHOTS / "05-complaint-reopened.png"), full_page=True)

    detail = httpx.get(
        f"{stack.settings.desk_url}/api/desk/complaints/{number}", headers=headers, timeout=10
    ).json()
    assert detail["complaint"]["status"] == "investigating"
    # the answer is a record staff can filter and count, not only a timeline step
    assert (detail["complaint"]["satisfaction"], detail["complaint"]["satisfaction_label"]) == (
        "unsatisfied",
        "不满意",
    )
    notes = [step["note"] for step in detail["timeline"]]
    assert any("到现在还没有退款，机构也不接电话" in note for note in notes), notes
    context.close()
