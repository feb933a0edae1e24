"""The demand desk on the real stack in real browsers (Debian's Chromium driven by Playwright).

1. A staff member enters a demand received by phone, opens it from the confirmation and moves it
   through its states in the console; the timeline says the enterprise could not be told
   automatically (no conversation behind a call).
2. An enterprise states a need in the web chat and agrees to open a demand; the staff member
   finds it on the board and moves it on; each new state appears on the enterprise's chat page.
3. Complaints: a letter handled to the end and reopened; the complainant's answer to
   「您对处理结果是否满意？」 on the board (shown, filtered), the detail and the dashboard.

Screenshots go to var/screenshots/desk/.
"""

import secrets
import shutil
import struct
import time
import zlib
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect, sync_playwright
from sqlalchemy import select

from app.stack import Stack
from desk.clock import today
from desk.db import get_sessionmaker
from desk.demands.models import Demand
from desk.demands.schemas import StaffDemandCreate
from desk.demands.service import create_demand
from desk.paths import REPO_ROOT
from knowledge.store import get_knowledge
from tests.e2e.conftest import on_both_databases

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
STAFF = "zhou.staff"
STAFF_PASSWORD = "staff-pass-" + secrets.token_hex(4)
SHOTS = REPO_ROOT / "var" / "screenshots" / "desk"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stack(request: pytest.FixtureRequest, stack: Stack) -> Stack:
    """Every test here runs on the SQLite stack and again on the PostgreSQL one."""
    return on_both_databases(request, stack)


@pytest.fixture(scope="module")
def staff(stack: Stack) -> str:
    base = stack.settings.desk_url
    password = stack.settings.admin_password
    assert password is not None
    token = httpx.post(
        f"{base}/api/auth/login",
        json={"username": stack.settings.admin_user, "password": password.get_secret_value()},
        timeout=10,
    ).json()["token"]
    created = httpx.post(
        f"{base}/api/users",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "username": STAFF,
            "display_name": "周敏",
            "role": "staff",
            "password": STAFF_PASSWORD,
        },
        timeout=10,
    )
    assert created.status_code in (201, 422), created.text
    SHOTS.mkdir(parents=True, exist_ok=True)
    return STAFF


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


def _console(browser: Any, stack: Stack) -> Any:
    page = browser.new_context(viewport=DESKTOP, locale="zh-CN").new_page()
    page.goto(f"{stack.settings.desk_url}/console/")
    page.get_by_label("用户名").fill(STAFF)
    page.get_by_label("密码").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="需求看板")).to_be_visible(timeout=20_000)  # home
    return page


def _demand(stack: Stack, number: str) -> Demand:
    assert stack.settings.database_url
    with get_sessionmaker(stack.settings.database_url)() as session:
        demand = session.scalar(select(Demand).where(Demand.number == number))
        assert demand is not None
        return demand


def _move(page: Any, label: str, *, note: str = "") -> Any:
    page.get_by_role("button", name=f"变更为“{label}”").click()
    dialog = page.get_by_role("dialog", name=f"变更为“{label}”")
    expect(dialog).to_be_visible()
    if note:
        dialog.get_by_label("备注").fill(note)
    return dialog


def _confirm(page: Any, dialog: Any, label: str) -> None:
    dialog.get_by_role("button", name="确定").click()
    expect(dialog).to_be_hidden(timeout=10_000)
    expect(page.locator(".head .el-tag").first).to_have_text(label, timeout=10_000)


def _pick(page: Any, dialog: Any, field: str, option: str) -> None:
    choice = page.get_by_role("option", name=option)
    for _ in range(3):  # on a busy machine the first click can land before the list opens
        dialog.get_by_label(field).click(force=True)
        try:
            choice.wait_for(state="visible", timeout=5_000)
            break
        except PlaywrightTimeoutError:
            continue
    choice.click()
    dialog.get_by_text("变更为“", exact=False).first.click()  # the title: the list closes


def test_a_phone_demand_entered_and_moved_through_its_states(
    stack: Stack, staff: str, browser: Any
) -> None:
    institution = next(i for i in get_knowledge().institutions if i.status == "published")
    page = _console(browser, stack)

    page.get_by_role("button", name="录入需求").click()
    expect(page.get_by_role("heading", name="录入需求与投诉")).to_be_visible()
    page.get_by_label("企业名称").fill("江阴某阀门有限公司")
    page.get_by_label("联系人").fill("李强")
    page.get_by_label("手机号码").fill("139 1234")
    page.get_by_label("产品或对象").fill("压力表")
    page.get_by_label("所在区域").fill("江阴市周庄镇")
    page.get_by_label("需求描述").fill("来电：一批压力表需要检定，希望上门")
    page.get_by_role("button", name="登记").click()
    expect(page.get_by_text("请填写11位手机号码")).to_be_visible()  # the form checks first
    page.get_by_label("手机号码").fill("139 1234 5678")
    page.screenshot(path=SHOTS / "02-entry-form.png")
    page.get_by_role("button", name="登记").click()
    done = page.get_by_text("已登记需求 XQ")
    expect(done).to_be_visible(timeout=10_000)
    number = done.inner_text().split()[-1]
    page.screenshot(path=SHOTS / "03-entry-done.png")
    demand = _demand(stack, number)
    assert (demand.channel, demand.conversation_id, demand.contact_mobile) == (
        "phone",
        None,
        "13912345678",
    )

    page.get_by_role("button", name="查看详情").click()
    expect(page.get_by_role("heading", name=f"需求 {number}")).to_be_visible()
    expect(page.get_by_text("没有在线会话").first).to_be_visible()
    expect(page.locator(".el-timeline").get_by_text("周敏").first).to_be_visible()  # by name

    dialog = _move(page, "已响应", note="已回电确认数量")
    _confirm(page, dialog, "已响应")
    expect(page.get_by_text("未自动告知企业；请通过电话告知“已响应”。")).to_be_visible()

    dialog = _move(page, "已推荐")
    recommend = dialog.get_by_label("推荐机构")
    recommend.click(force=True)
    recommend.fill(institution.title)  # staff find it by name (the search API)
    page.get_by_role("option", name=institution.title).click()
    dialog.get_by_text("变更为“", exact=False).first.click()  # the title: the list closes
    _confirm(page, dialog, "已推荐")
    expect(page.get_by_text(institution.title).first).to_be_visible()

    dialog = _move(page, "已对接")
    _pick(page, dialog, "选定机构", institution.title)
    _confirm(page, dialog, "已对接")
    for label in ("服务中", "已完成"):
        _confirm(page, _move(page, label), label)
    page.wait_for_timeout(3500)  # the confirmations fade
    page.screenshot(path=SHOTS / "04-phone-demand-completed.png", full_page=True)

    demand = _demand(stack, number)
    assert (demand.status, demand.institution_ids, demand.chosen_institution_id) == (
        "completed",
        [institution.id],
        institution.id,
    )
    expect(
        page.get_by_text("该需求已办结，无需再变更。")
    ).to_be_visible()  # 评价 is the enterprise's

    # The board finds it by the institution chosen, and among the unassigned ones.
    page.goto(f"{stack.settings.desk_url}/console/desk/demands")
    rows = page.locator(".el-table__body tr")
    expect(rows.first).to_be_visible()
    search = page.get_by_role("combobox", name="推荐或选定机构")
    search.click()
    search.fill(institution.title)
    page.get_by_role("option", name=institution.title).click()
    page.get_by_role("combobox", name="经办人").click(force=True)
    page.get_by_role("option", name="未指派").click()
    expect(rows.filter(has_text=number)).to_have_count(1)
    shown = [n for n in page.locator(".el-table__body tr td:first-child").all_inner_texts()]
    demands = [_demand(stack, n.strip()) for n in shown]
    assert all(
        institution.id in d.institution_ids or d.chosen_institution_id == institution.id
        for d in demands
    ), shown


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


def _late_demand(stack: Stack) -> str:
    """A demand called in two weeks ago and never answered (it stands out on the board)."""
    data = StaffDemandCreate(
        channel="letter",
        need_text="来信：标准化良好行为评价咨询",
        product="企业标准体系",
        place="无锡市新吴区",
        contact_name="陈静",
        contact_mobile="13655556666",
        company_name="无锡某精密制造有限公司",
    )
    assert stack.settings.database_url
    with get_sessionmaker(stack.settings.database_url)() as session:
        demand, _ = create_demand(
            session, data=data, idempotency_key=None, today=today() - timedelta(days=14)
        )
        return demand.number


def test_a_web_chat_demand_moved_on_reaches_the_enterprises_chat(
    stack: Stack, staff: str, browser: Any
) -> None:
    base = stack.settings.desk_url
    chat = browser.new_context(viewport=PHONE, locale="zh-CN").new_page()
    chat.goto(f"{base}/")
    chat.wait_for_selector("#text")
    for text in ("我们有一批电线电缆需要做检测", "江阴市周庄镇", "张伟", "13912345678", "好的"):
        _enterprise_says(chat, text)
    conversation_id = chat.evaluate("localStorage.getItem('qclinic.conversation_id')")
    assert stack.settings.database_url
    with get_sessionmaker(stack.settings.database_url)() as session:
        [demand] = session.scalars(select(Demand).where(Demand.conversation_id == conversation_id))
    number = demand.number

    late = _late_demand(stack)
    page = _console(browser, stack)
    late_row = page.locator(".el-table__row").filter(has_text=late)
    expect(late_row.get_by_text("超期")).to_be_visible(timeout=10_000)
    page.wait_for_timeout(600)  # the table's loading veil fades
    page.screenshot(path=SHOTS / "05-board-with-overdue.png")
    page.get_by_label("搜索需求").fill(number)
    row = page.locator(".el-table__row").filter(has_text=number)
    expect(row).to_have_count(1, timeout=10_000)
    expect(page.locator(".el-table__row")).to_have_count(1)
    row.get_by_text(number).click()
    expect(page.get_by_role("heading", name=f"需求 {number}")).to_be_visible()
    expect(page.get_by_text("我们有一批电线电缆需要做检测").first).to_be_visible()  # transcript

    started = time.perf_counter()
    _confirm(page, _move(page, "已响应", note="内部：今天下午回电"), "已响应")
    told = chat.locator(".msg.system").filter(has_text=f"{number}）进展更新：已响应")
    expect(told).to_be_visible(timeout=15_000)
    to_chat_s = time.perf_counter() - started
    expect(chat.get_by_text("内部：今天下午回电")).to_have_count(0)  # staff notes stay inside
    expect(page.get_by_text("已通过网页会话告知企业：“已响应”。")).to_be_visible()

    dialog = _move(page, "已推荐")
    expect(dialog.get_by_label("推荐机构")).to_be_visible()
    _confirm(page, dialog, "已推荐")  # the institutions the bot recommended, kept
    recommended = chat.locator(".msg.system").filter(has_text="为您推荐的服务机构")
    expect(recommended).to_be_visible(timeout=15_000)
    chat.screenshot(path=SHOTS / "06-chat-receives-notices.png")
    page.wait_for_timeout(3500)  # the confirmations fade
    page.screenshot(path=SHOTS / "07-web-demand-detail.png", full_page=True)
    print(f"\nstaff move → enterprise's chat page: {to_chat_s:.2f} s")


def _png(width: int = 320, height: int = 200) -> bytes:
    """A real PNG (a licence-coloured card with stripes), made without an imaging library."""
    rows = b"".join(
        b"\x00"
        + b"".join(
            bytes((200, 40, 40) if (y // 20) % 2 and 20 < x < width - 20 else (250, 240, 220))
            for x in range(width)
        )
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def test_a_registration_is_reviewed_with_its_documents_shown_in_the_page(
    stack: Stack, staff: str, browser: Any
) -> None:
    base = stack.settings.desk_url
    token = httpx.post(
        f"{base}/api/auth/login", json={"username": STAFF, "password": STAFF_PASSWORD}, timeout=10
    ).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    name = f"无锡审核测试{secrets.token_hex(2)}有限公司"
    customer = httpx.post(
        f"{base}/api/customers",
        headers=headers,
        json={"kind": "enterprise", "name": name, "credit_code": "91320214MA1MUK7X29"},
        timeout=10,
    )
    assert customer.status_code == 201, customer.text
    customer_id = customer.json()["id"]
    ids = []
    for kind in ("business_licence", "qualification", "integrity_pledge"):
        uploaded = httpx.post(
            f"{base}/api/customers/{customer_id}/documents",
            headers=headers,
            data={"kind": kind},
            files={"file": (f"{kind}.png", _png(), "image/png")},
            timeout=10,
        )
        assert uploaded.status_code == 201, uploaded.text
        ids.append(uploaded.json()["id"])
    submitted = httpx.post(
        f"{base}/api/customers/{customer_id}/verification",
        headers=headers,
        json={"document_ids": ids},
        timeout=10,
    )
    assert submitted.status_code == 201, submitted.text

    page = _console(browser, stack)
    page.get_by_role("menuitem", name="需求与投诉").hover()
    page.get_by_role("menuitem", name="客户审核").click()
    expect(page.get_by_role("heading", name="客户审核")).to_be_visible()
    page.locator(".el-table__row").filter(has_text=f"#{submitted.json()['id']}").click()
    drawer = page.get_by_role("dialog")
    expect(drawer.get_by_text(name)).to_be_visible(timeout=10_000)
    image = drawer.get_by_role("img", name="business_licence.png")
    expect(image).to_be_visible(timeout=10_000)
    assert image.get_attribute("src", timeout=5_000).startswith("blob:")  # fetched with the login
    assert page.evaluate("img => img.naturalWidth", image.element_handle()) == 320
    page.screenshot(path=SHOTS / "08-review-with-document.png")
    drawer.get_by_role("button", name="审核通过").click()
    expect(page.get_by_text("已审核通过")).to_be_visible()
    reviewed = httpx.get(f"{base}/api/customers/{customer_id}", headers=headers).json()
    assert reviewed["verification"] == "approved"


def test_staff_mark_a_holiday_in_the_working_calendar(
    stack: Stack, staff: str, browser: Any
) -> None:
    page = _console(browser, stack)
    page.goto(f"{stack.settings.desk_url}/console/desk/calendar")
    expect(page.get_by_role("heading", name="工作日历")).to_be_visible()
    day = today().replace(day=15)
    page.get_by_role("button", name=f"修改 {day.isoformat()}").click()
    dialog = page.get_by_role("dialog", name=f"设置 {day.isoformat()}")
    dialog.get_by_text("休息（节假日）").click()
    dialog.get_by_label("说明").fill("临时停电休息")
    dialog.get_by_role("button", name="保存").click()
    expect(page.get_by_role("cell", name="临时停电休息")).to_be_visible()
    page.screenshot(path=SHOTS / "09-working-calendar.png")
    token = httpx.post(
        f"{stack.settings.desk_url}/api/auth/login",
        json={"username": STAFF, "password": STAFF_PASSWORD},
        timeout=10,
    ).json()["token"]
    days = httpx.get(
        f"{stack.settings.desk_url}/api/calendar/{day.year}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ).json()
    assert {"day": day.isoformat(), "working": False, "note": "临时停电休息"} in days


def test_a_letter_complaint_entered_and_handled_to_the_end(
    stack: Stack, staff: str, browser: Any
) -> None:
    page = _console(browser, stack)
    page.goto(f"{stack.settings.desk_url}/console/desk/entry?kind=complaint")
    expect(page.get_by_role("heading", name="录入需求与投诉")).to_be_visible()
    page.get_by_role("radio", name="信件").check(force=True)
    page.get_by_label("被投诉机构").fill("某某检测公司")
    page.get_by_label("投诉内容").fill("来信：检测报告迟迟不出，多次催问无人答复")
    page.get_by_label("投诉人要求").fill("尽快出具报告并说明原因")
    page.get_by_role("button", name="登记").click()
    done = page.get_by_text("已登记投诉 TS")
    expect(done).to_be_visible(timeout=10_000)
    number = done.inner_text().split()[-1]
    expect(page.get_by_text("匿名投诉的查询码")).to_be_visible()  # no mobile: the code, once
    page.get_by_role("button", name="查看详情").click()
    expect(page.get_by_role("heading", name=f"投诉 {number}")).to_be_visible()
    expect(page.get_by_text("根据信件受理，没有在线会话")).to_be_visible()

    for label in ("调查核实中", "已转交机构处理"):
        _confirm(page, _move(page, label), label)
    dialog = _move(page, "已处理完毕")
    expect(dialog.get_by_text("办结投诉时请填写处理意见。")).to_be_visible()  # the form says first
    dialog.get_by_label("处理意见").fill("机构已出具报告并致歉，承诺缩短出具周期")
    expect(dialog.get_by_text("请选择调查结论：投诉是否成立。")).to_be_visible()
    dialog.get_by_text("投诉成立", exact=True).click()  # upheld: an improvement item (§8.2)
    expect(dialog.get_by_text("投诉成立将自动生成一条改进事项")).to_be_visible()
    _confirm(page, dialog, "已处理完毕")
    _confirm(page, _move(page, "已反馈投诉人", note="已回信"), "已反馈投诉人")
    expect(page.get_by_text("该投诉已办结并反馈投诉人。")).to_be_visible()
    page.wait_for_timeout(3500)  # the confirmations fade
    page.screenshot(path=SHOTS / "10-complaint-handled.png", full_page=True)
    token = httpx.post(
        f"{stack.settings.desk_url}/api/auth/login",
        json={"username": STAFF, "password": STAFF_PASSWORD},
        timeout=10,
    ).json()["token"]
    complaint = httpx.get(
        f"{stack.settings.desk_url}/api/complaints/{number}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ).json()
    assert (complaint["status"], complaint["channel"], complaint["conversation_id"]) == (
        "informed",
        "letter",
        None,
    )
    assert complaint["resolution"] == "机构已出具报告并致歉，承诺缩短出具周期"
    items = httpx.get(
        f"{stack.settings.desk_url}/api/improvements",
        params={"source": "complaint"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ).json()["items"]
    assert [i["source_number"] for i in items].count(number) == 1  # upheld: exactly one item

    # The complainant writes back, not satisfied: staff reopen it with the reason.
    page.get_by_role("button", name="投诉人要求重新处理").click()
    reopen = page.get_by_role("dialog", name="投诉人要求重新处理")
    expect(reopen.get_by_text("请写明投诉人不满意的原因。")).to_be_visible()
    reopen.get_by_label("不满意的原因").fill("来信：报告仍未寄到，要求说明寄送情况")
    reopen.get_by_role("button", name="重新处理").click()
    expect(page.get_by_text("已重新进入调查核实")).to_be_visible(timeout=10_000)
    expect(page.get_by_text("要求重新处理：来信：报告仍未寄到")).to_be_visible()
    page.wait_for_timeout(3500)  # the confirmation fades
    page.screenshot(path=SHOTS / "11-complaint-reopened.png", full_page=True)
    again = httpx.get(
        f"{stack.settings.desk_url}/api/complaints/{number}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ).json()
    assert (again["status"], again["resolved_at"]) == ("investigating", None)


def _choose(page: Any, field: str, option: str) -> None:
    """An Element Plus select outside a dialog: open it, pick the option."""
    choice = page.get_by_role("option", name=option, exact=True)
    for _ in range(3):  # on a busy machine the first click can land before the list opens
        page.get_by_role("combobox", name=field).click(force=True)
        try:
            choice.wait_for(state="visible", timeout=5_000)
            break
        except PlaywrightTimeoutError:
            continue
    choice.click()


def test_the_complainants_answer_is_shown_filtered_and_counted(
    stack: Stack, staff: str, browser: Any
) -> None:
    """满意 as a record: two handled complaints, one answered 满意 (twice: recorded once), one
    not answered; the board shows and filters the answer, the detail says when, the
    dashboard counts it."""
    base = stack.settings.desk_url
    token = httpx.post(
        f"{base}/api/auth/login", json={"username": STAFF, "password": STAFF_PASSWORD}, timeout=10
    ).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    tag = secrets.token_hex(3)
    numbers = []
    for name in (f"澄江质检{tag}", f"南闸计量{tag}"):
        created = httpx.post(
            f"{base}/api/complaints",
            headers={**headers, "Idempotency-Key": secrets.token_hex(8)},
            json={
                "channel": "phone",
                "institution_name": name,
                "complaint_type": "quality",
                "content": "电话：报告结论与复测结果不一致",
                "demand": "复检并书面说明",
            },
            timeout=10,
        )
        assert created.status_code == 201, created.text
        number = created.json()["number"]
        for move in (
            {"to": "investigating"},
            {"to": "forwarded"},
            {"to": "resolved", "resolution": "机构已复检并更正报告"},
        ):
            httpx.post(
                f"{base}/api/complaints/{number}/transitions",
                headers=headers,
                json=move,
                timeout=20,
            ).raise_for_status()
        numbers.append(number)
    pleased, silent = numbers
    for _ in range(2):  # the complainant says so twice (a call, then a letter): recorded once
        httpx.post(
            f"{base}/api/complaints/{pleased}/satisfaction", headers=headers, json={}, timeout=10
        ).raise_for_status()

    page = _console(browser, stack)
    page.goto(f"{base}/console/desk/complaints")
    expect(page.get_by_role("heading", name="投诉看板")).to_be_visible()
    page.get_by_label("搜索投诉").fill(tag)
    rows = page.locator(".el-table__body tr")
    expect(rows).to_have_count(2, timeout=10_000)
    expect(rows.filter(has_text=pleased).locator(".satisfaction")).to_have_text("满意")
    expect(rows.filter(has_text=silent).locator(".satisfaction")).to_have_text("未答复")
    _choose(page, "投诉人满意度", "满意")
    expect(rows).to_have_count(1, timeout=10_000)
    expect(rows.first).to_contain_text(pleased)
    page.mouse.move(700, 700)
    page.screenshot(path=SHOTS / "12-complaints-satisfied-filter.png")
    _choose(page, "投诉人满意度", "未答复")
    expect(rows.filter(has_text=silent)).to_have_count(1, timeout=10_000)
    expect(rows).to_have_count(1)

    page.goto(f"{base}/console/desk/complaints/{pleased}")
    expect(page.get_by_role("heading", name=f"投诉 {pleased}")).to_be_visible()
    answer = page.locator(".el-descriptions__cell", has_text="满意").locator(".satisfaction")
    expect(answer).to_have_text("满意")
    expect(page.get_by_text("答复）")).to_be_visible()
    expect(page.get_by_text("投诉人对处理结果表示满意。")).to_have_count(1)  # on the timeline, once
    page.screenshot(path=SHOTS / "13-complaint-satisfied-detail.png", full_page=True)
    complaint = httpx.get(f"{base}/api/complaints/{pleased}", headers=headers, timeout=10).json()
    assert (complaint["satisfaction"], complaint["satisfaction_label"]) == ("satisfied", "满意")

    report = httpx.get(f"{base}/api/reports/dashboard", headers=headers, timeout=30).json()
    figures = report["overall"]["complaint_satisfaction"]
    assert figures["satisfied"] >= 1 and figures["unanswered"] >= 1, figures
    page.goto(f"{base}/console/dashboard")
    card = page.locator(".kpi.complaint-satisfaction")
    expect(card).to_contain_text(f"{figures['rate'] * 100:.1f}%", timeout=20_000)
    expect(card).to_contain_text(
        f"满意 {figures['satisfied']} · 不满意 {figures['unsatisfied']} · "
        f"未答复 {figures['unanswered']}"
    )
    card.screenshot(path=SHOTS / "14-dashboard-complaint-satisfaction.png")
