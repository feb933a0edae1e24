"""The dashboard on the real stack (app + Rasa + action server) in Debian's Chromium: a staff
member opens 统计看板 and sees its charts, exports a table and checks the downloaded XLSX
against the API, works an improvement item from open to closed with evidence, and the public
results page opens without a login. Screenshots go to var/screenshots/dashboard/.
"""

import re
import secrets
import shutil
import time
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect, sync_playwright
from sqlalchemy import select

from app.stack import Stack
from desk.db import get_sessionmaker
from desk.improvements.models import ImprovementEvent, ImprovementItem
from tests.e2e.conftest import on_both_databases

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
DESKTOP = {"width": 1440, "height": 900}
STAFF = "zhao.staff"
STAFF_NAME = "赵敏"
STAFF_PASSWORD = "staff-pass-" + secrets.token_hex(4)
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots" / "dashboard"
INSTITUTION = "inst-chengheng-metrology"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 128
UNKNOWN_QUESTIONS = (
    "平台的发票怎么开具",
    "你们单位食堂几点开饭",
    "停车场收费标准是什么",
    "办理检测可以用医保卡支付吗",
)
NOT_ANSWERED = ("知识库里没有找到", "没有完全理解")


def _admin(stack: Stack) -> dict[str, str]:
    password = stack.settings.admin_password
    assert password is not None
    token = httpx.post(
        f"{stack.settings.desk_url}/api/auth/login",
        json={"username": stack.settings.admin_user, "password": password.get_secret_value()},
        timeout=10,
    ).json()["token"]
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stack(request: pytest.FixtureRequest, stack: Stack) -> Stack:
    """Every test here runs on the SQLite stack and again on the PostgreSQL one."""
    return on_both_databases(request, stack)


@pytest.fixture(scope="module")
def seeded(stack: Stack) -> dict[str, Any]:
    """A staff account; three demands served and evaluated (one dissatisfied), one complaint;
    and one message the bot could not understand, said in the web chat."""
    base, admin = stack.settings.desk_url, _admin(stack)
    created = httpx.post(
        f"{base}/api/users",
        headers=admin,
        json={
            "username": STAFF,
            "display_name": STAFF_NAME,
            "role": "staff",
            "password": STAFF_PASSWORD,
        },
        timeout=10,
    )
    assert created.status_code in (201, 422), created.text
    staff = {
        "Authorization": "Bearer "
        + httpx.post(
            f"{base}/api/auth/login",
            json={"username": STAFF, "password": STAFF_PASSWORD},
            timeout=10,
        ).json()["token"]
    }
    bot = {"Authorization": f"Bearer {stack.settings.secret('service_token')}"}
    numbers = []
    for i, (place, scores) in enumerate(
        [("江阴市周庄镇", (5, 5, 4, 5)), ("无锡市新吴区", (4, 4, 4, 4)), ("周庄", (4, 2, 3, 3))]
    ):
        conversation = f"web:dash-e2e-{secrets.token_hex(4)}-{i}"
        consent = httpx.post(
            f"{base}/api/consents",
            headers=bot,
            json={"conversation_id": conversation, "notice_version": "2026-01", "agreed": True},
            timeout=10,
        )
        assert consent.status_code == 201, consent.text
        demand = httpx.post(
            f"{base}/api/demands",
            headers=bot,
            json={
                "conversation_id": conversation,
                "need_text": "压力表校准",
                "product": "压力表",
                "place": place,
                "contact_name": "张伟",
                "contact_mobile": "13912345678",
                "service_ids": ["6.1.2"],
            },
            timeout=10,
        )
        assert demand.status_code in (200, 201), demand.text
        number = demand.json()["number"]
        for step in (
            {"to": "responded"},
            {"to": "recommended", "institution_ids": [INSTITUTION]},
            {"to": "matched", "chosen_institution_id": INSTITUTION},
            {"to": "in_service"},
            {"to": "completed"},
        ):
            moved = httpx.post(
                f"{base}/api/demands/{number}/transitions", headers=staff, json=step, timeout=10
            )
            assert moved.status_code == 200, moved.text
        names = ("process_score", "efficiency_score", "attitude_score", "overall_score")
        given = httpx.post(
            f"{base}/api/demands/{number}/evaluation",
            headers=bot,
            params={"conversation_id": conversation},
            json=dict(zip(names, scores, strict=True)),
            timeout=10,
        )
        assert given.status_code == 201, given.text
        numbers.append(number)
    complaint = httpx.post(
        f"{base}/api/complaints",
        headers=staff,
        json={
            "channel": "电话",
            "institution_name": "某检测公司",
            "complaint_type": "收费",
            "content": "收费与报价不一致",
            "contact_mobile": "13912345678",
        },
        timeout=10,
    )
    assert complaint.status_code == 201, complaint.text
    # questions the knowledge base has no answer for: the FAQ (or fallback) action says so and
    # reports the message to the desk; the first one the bot owns up to is the one to find
    unanswered = None
    for question in UNKNOWN_QUESTIONS:
        reply = httpx.post(
            f"{base}/api/chat/messages",
            json={"conversation_id": f"web:dash-e2e-{secrets.token_hex(4)}", "text": question},
            timeout=60,
        )
        assert reply.status_code == 200, reply.text
        said = " ".join(m["text"] for m in reply.json()["messages"])
        if any(words in said for words in NOT_ANSWERED):
            unanswered = question
            break
    assert unanswered, "the bot answered every question it should not know"
    return {"staff": staff, "dissatisfied": numbers[2], "unanswered": unanswered}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


def _login(page: Any, base: str) -> None:
    page.goto(f"{base}/console/login")
    page.get_by_label("用户名").fill(STAFF)
    page.get_by_label("密码").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("menubar")).to_be_visible(timeout=20_000)


def _menu(page: Any, item: str) -> None:
    """Open the header's 统计看板 group and pick one of its pages."""
    page.get_by_role("menubar").get_by_role("menuitem", name="统计看板").hover()
    popup = page.get_by_role("tooltip").filter(has=page.get_by_role("menuitem", name="年度总结"))
    popup.get_by_role("menuitem", name=item, exact=True).click()


def test_staff_dashboard_export_and_improvement_to_closed(
    stack: Stack, seeded: dict[str, Any], browser: Any
) -> None:
    base, staff = stack.settings.desk_url, seeded["staff"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    # what the bot could not answer reached the desk through the real action server
    deadline = time.monotonic() + 15
    while True:
        groups = httpx.get(f"{base}/api/reports/unanswered", headers=staff, timeout=10).json()
        if any(g["text"] == seeded["unanswered"] for g in groups) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert any(g["text"] == seeded["unanswered"] for g in groups), groups

    context = browser.new_context(viewport=DESKTOP, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    _login(page, base)

    # 统计看板 from the menu: the period's figures and six charts
    started = time.perf_counter()
    _menu(page, "统计看板")
    expect(page.get_by_role("heading", name="统计看板")).to_be_visible()
    expect(page.get_by_text("1个工作日响应")).to_be_visible(timeout=20_000)
    charts = page.locator("[role=img][aria-label$='图'] canvas")
    expect(charts).to_have_count(6, timeout=20_000)
    load_ms = (time.perf_counter() - started) * 1000
    report = httpx.get(f"{base}/api/reports/dashboard", headers=staff, timeout=30).json()
    kpi = page.locator(".kpi").filter(has_text="需求").first
    expect(kpi).to_contain_text(str(report["overall"]["demands"]))
    expect(page.locator(".kpi").filter(has_text="改进事项")).to_contain_text("超期 0 项")
    page.mouse.move(700, 600)  # away from the header's menu, which then closes
    expect(page.get_by_role("tooltip").filter(has_text="年度总结")).to_be_hidden()
    page.set_viewport_size({"width": 1440, "height": 2000})  # the whole page in one picture
    page.screenshot(path=SHOTS / "01-dashboard.png")
    page.set_viewport_size(DESKTOP)

    # the region table, exported: the XLSX holds the page's rows
    page.get_by_role("tab", name="按区域").click()
    regions = page.locator("#pane-regions")
    expect(regions.get_by_text("江阴市周庄镇")).to_be_visible()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="导出当前表格 XLSX").click()
    download = download_info.value
    assert download.suggested_filename.startswith(
        "按区域_"
    ) and download.suggested_filename.endswith(".xlsx")
    sheet = load_workbook(BytesIO(Path(download.path()).read_bytes())).active
    assert sheet is not None
    rows = list(sheet.iter_rows(min_row=4, values_only=True))
    by_region = {row["label"]: row["demands"] for row in report["by_region"]}
    assert {r[0]: r[1] for r in rows[:-1]} == by_region
    assert by_region["江阴市周庄镇"] >= 2  # 江阴市周庄镇 and 周庄
    assert rows[-1][0] == "合计" and rows[-1][1] == report["overall"]["demands"]
    page.get_by_role("tab", name=re.compile("未能解答的问题")).click()
    expect(page.locator("#pane-unanswered").get_by_text(seeded["unanswered"])).to_be_visible()
    page.screenshot(path=SHOTS / "02-unanswered.png")

    # 改进事项: the dissatisfied evaluation's item, worked to closed
    _menu(page, "改进事项")
    row = page.get_by_role("row").filter(has_text=seeded["dissatisfied"])
    expect(row).to_be_visible(timeout=10_000)
    expect(row).to_contain_text("待整改")
    row.click()
    drawer = page.get_by_role("dialog")
    expect(drawer).to_contain_text("效率 2 分")
    drawer.get_by_role("button", name="开始整改").click()
    expect(page.get_by_text("开始整改前请填写原因分析。")).to_be_visible()  # the API's refusal
    drawer.get_by_placeholder("为什么会发生").fill("推荐后未及时回访企业")
    drawer.get_by_placeholder("做什么、怎么做").fill("推荐后第二个工作日电话回访")
    drawer.get_by_text("选择责任人").click()
    page.get_by_role("option", name=STAFF_NAME).click()
    drawer.get_by_role("button", name="开始整改").click()
    expect(drawer.get_by_text("整改中").first).to_be_visible()
    drawer.get_by_placeholder("复查了什么，结果如何").fill("抽查本月 10 个需求，均已回访")
    drawer.get_by_role("button", name="提交复查").click()
    expect(drawer.get_by_role("button", name="关闭事项")).to_be_visible()
    drawer.get_by_role("button", name="关闭事项").click()
    expect(page.get_by_text("关闭前请填写整改证据（可另附文件）。")).to_be_visible()
    drawer.get_by_label("选择证据文件").set_input_files(
        {"name": "回访记录.png", "mimeType": "image/png", "buffer": PNG}
    )
    expect(drawer.get_by_role("button", name="回访记录.png")).to_be_visible()
    drawer.get_by_placeholder("整改已落实的证据，可另附照片或文件").fill("回访记录表，见附件")
    page.screenshot(path=SHOTS / "03-improvement-before-close.png")
    drawer.get_by_role("button", name="关闭事项").click()
    expect(drawer.get_by_text("已关闭").first).to_be_visible()
    expect(drawer).to_contain_text("整改证据：回访记录表，见附件")
    page.screenshot(path=SHOTS / "04-improvement-closed.png")

    assert stack.settings.database_url
    with get_sessionmaker(stack.settings.database_url)() as session:
        item = session.scalars(
            select(ImprovementItem).where(ImprovementItem.source_number == seeded["dissatisfied"])
        ).one()
        steps = session.scalars(
            select(ImprovementEvent.to_status)
            .where(ImprovementEvent.item_id == item.id)
            .order_by(ImprovementEvent.id)
        ).all()
    assert (item.status, item.owner, item.evidence) == ("closed", STAFF, "回访记录表，见附件")
    assert steps == ["open", "in_progress", "rechecked", "rechecked", "closed"]
    context.close()
    print(f"\ndashboard page load with charts: {load_ms:.0f} ms; screenshots: {SHOTS}")


def test_the_public_results_need_no_login(
    stack: Stack, seeded: dict[str, Any], browser: Any
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{stack.settings.desk_url}/console/public/results")
    expect(page.get_by_text("服务评价结果公示")).to_be_visible(timeout=20_000)
    expect(page.get_by_text("分季度评价结果")).to_be_visible()
    expect(page.locator("[role=img] canvas")).to_have_count(1)
    assert page.url.endswith("/console/public/results")  # not sent to the login page
    text = page.locator("body").inner_text()
    for personal in ("张伟", "13912345678", seeded["dissatisfied"]):
        assert personal not in text
    page.screenshot(path=SHOTS / "05-public-results.png", full_page=True)
    context.close()
