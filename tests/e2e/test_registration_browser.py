"""Registration in the web chat (§7.1.1) on the real stack, in Debian's Chromium.

An enterprise registers in the chat: kind, name, credit code, contact and mobile (consent), then
uploads its 营业执照, 资质证书 and 诚信承诺书 through the chat's upload button and is told the
review's date (3 working days on the desk's calendar). A staff member rejects it in the console
naming the missing pledge; the chat shows the reason; the enterprise replies 补充资料, uploads a new
pledge and a new review opens; staff approve it and the chat shows the result. Rows are checked
in the database at each step, on SQLite and on PostgreSQL. Screenshots go to
var/screenshots/registration/.
"""

import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright
from sqlalchemy import select

from app.stack import Stack
from desk.calendar.service import load_calendar
from desk.clock import today
from desk.customers.models import Customer, CustomerConversation, CustomerReview
from desk.db import get_sessionmaker
from desk.paths import REPO_ROOT
from desk.uploads.models import Document
from tests.e2e.conftest import on_both_databases
from tests.e2e.test_staff_desk import _png

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
STAFF = "wu.reviewer"
STAFF_PASSWORD = "staff-pass-" + secrets.token_hex(4)
SHOTS = REPO_ROOT / "var" / "screenshots" / "registration"
COMPANY = "江阴远澄线缆有限公司"
CREDIT_CODE = "91320281MA1W6XKQ0T"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stack(request: pytest.FixtureRequest, stack: Stack) -> Stack:
    """The registration runs on the SQLite stack and again on the PostgreSQL one."""
    return on_both_databases(request, stack)


@pytest.fixture(scope="module")
def staff(stack: Stack) -> dict[str, str]:
    base = stack.settings.desk_url
    password = stack.settings.admin_password
    assert password is not None
    admin = httpx.post(
        f"{base}/api/auth/login",
        json={"username": stack.settings.admin_user, "password": password.get_secret_value()},
        timeout=10,
    ).json()["token"]
    created = httpx.post(
        f"{base}/api/users",
        headers={"Authorization": f"Bearer {admin}"},
        json={
            "username": STAFF,
            "display_name": "吴审核",
            "role": "staff",
            "password": STAFF_PASSWORD,
        },
        timeout=10,
    )
    assert created.status_code in (201, 422), created.text
    token = httpx.post(
        f"{base}/api/auth/login", json={"username": STAFF, "password": STAFF_PASSWORD}, timeout=10
    ).json()["token"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


def _replied(page: Any, before: int) -> None:
    page.wait_for_function(
        "n => document.querySelectorAll('.msg.bot, .msg.system').length > n",
        arg=before,
        timeout=60_000,
    )
    page.wait_for_selector("#typing", state="hidden", timeout=60_000)


def _count(page: Any) -> int:
    return int(page.locator(".msg.bot, .msg.system").count())


def _say(page: Any, text: str) -> None:
    before = _count(page)
    page.fill("#text", text)
    page.click("#send")
    _replied(page, before)


def _upload(page: Any, path: Path, expect_text: str) -> None:
    before = _count(page)
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="上传材料").click()
    chooser.value.set_files(str(path))
    _replied(page, before)
    expect(page.locator(".msg.bot").filter(has_text=expect_text).last).to_be_visible()


def _rows(stack: Stack, model: Any, **where: Any) -> list[Any]:
    assert stack.settings.database_url
    with get_sessionmaker(stack.settings.database_url)() as session:
        query = select(model).where(*(getattr(model, k) == v for k, v in where.items()))
        return list(session.scalars(query.order_by(*model.__table__.primary_key.columns)))


def _due(stack: Stack) -> str:
    assert stack.settings.database_url
    with get_sessionmaker(stack.settings.database_url)() as session:
        return load_calendar(session).add_working_days(today(), 3).isoformat()


def test_an_enterprise_registers_in_the_web_chat_and_is_told_the_results(
    stack: Stack, staff: dict[str, str], browser: Any, tmp_path: Path
) -> None:
    base = stack.settings.desk_url
    files = {
        "licence": tmp_path / "营业执照.png",
        "qualification": tmp_path / "生产许可证.pdf",
        "pledge": tmp_path / "诚信承诺书.png",
        "pledge2": tmp_path / "诚信承诺书（盖章）.png",
    }
    files["licence"].write_bytes(_png())
    files["qualification"].write_bytes(PDF)
    files["pledge"].write_bytes(_png(300, 180))
    files["pledge2"].write_bytes(_png(280, 160))

    chat = browser.new_context(viewport=PHONE, locale="zh-CN").new_page()
    chat.goto(f"{base}/")
    chat.wait_for_selector("#text")
    upload = chat.get_by_role("button", name="上传材料")
    expect(upload).to_be_visible()
    conversation_id = chat.evaluate("localStorage.getItem('qclinic.conversation_id')")

    # an upload before registering is refused with the way forward
    early = tmp_path / "早传.png"
    early.write_bytes(_png(40, 40))
    before = _count(chat)
    with chat.expect_file_chooser() as chooser:
        upload.click()
    chooser.value.set_files(str(early))
    _replied(chat, before)
    expect(chat.locator(".msg.system").filter(has_text="回复“我要注册”")).to_be_visible()

    _say(chat, "我要注册")
    expect(chat.locator(".msg.bot").filter(has_text="要注册哪一类用户")).to_be_visible()
    before = _count(chat)
    chat.locator(".msg.bot .buttons button", has_text="企业用户").last.click()
    _replied(chat, before)
    expect(chat.locator(".msg.bot").filter(has_text="企业全称").last).to_be_visible()
    _say(chat, COMPANY)
    _say(chat, "91320281MA1W6XKQ0U")  # a wrong check digit
    expect(chat.locator(".msg.bot").filter(has_text="校验位不正确").last).to_be_visible()
    _say(chat, CREDIT_CODE.lower())
    _say(chat, "张伟")
    expect(chat.locator(".msg.bot").filter(has_text="【隐私提示】").last).to_be_visible()
    _say(chat, "13912345678")
    expect(chat.locator(".msg.bot").filter(has_text="请上传营业执照").last).to_be_visible()
    expect(upload).to_have_class("wanted")
    chat.screenshot(path=SHOTS / "01-chat-asks-licence.png")

    [customer] = _rows(stack, Customer, credit_code=CREDIT_CODE)
    assert (customer.name, customer.kind, customer.mobile, customer.verification) == (
        COMPANY,
        "enterprise",
        "13912345678",
        "unverified",
    )
    links = _rows(stack, CustomerConversation, customer_id=customer.id)
    assert [link.conversation_id for link in links] == [conversation_id]

    _upload(chat, files["licence"], "已收到营业执照")
    _upload(chat, files["qualification"], "已收到资质证书")
    _upload(chat, files["pledge"], "已收到诚信承诺书")
    due = _due(stack)
    submitted = chat.locator(".msg.bot").filter(has_text="注册资料已提交审核")
    expect(submitted).to_be_visible()
    expect(submitted).to_contain_text(due)
    chat.screenshot(path=SHOTS / "02-chat-submitted.png")
    documents = _rows(stack, Document, customer_id=customer.id)
    assert [(d.kind, d.original_name) for d in documents] == [
        ("business_licence", "营业执照.png"),
        ("qualification", "生产许可证.pdf"),
        ("integrity_pledge", "诚信承诺书.png"),
    ]
    [review] = _rows(stack, CustomerReview, customer_id=customer.id)
    assert (review.status, review.review_due.isoformat(), review.conversation_id) == (
        "pending",
        due,
        conversation_id,
    )
    assert sorted(review.document_ids) == sorted(d.id for d in documents)

    # staff open the attachments in the console and refuse, naming the missing pledge
    console = browser.new_context(viewport=DESKTOP, locale="zh-CN").new_page()
    console.goto(f"{base}/console/")
    console.get_by_label("用户名").fill(STAFF)
    console.get_by_label("密码").fill(STAFF_PASSWORD)
    console.get_by_role("button", name="登录").click()
    expect(console.get_by_role("heading", name="需求看板")).to_be_visible(timeout=20_000)
    console.goto(f"{base}/console/desk/reviews")
    expect(console.get_by_role("heading", name="客户审核")).to_be_visible()
    console.locator(".el-table__row").filter(has_text=f"#{review.id}").click()
    drawer = console.get_by_role("dialog")
    expect(drawer.get_by_text(COMPANY)).to_be_visible(timeout=10_000)
    expect(drawer.get_by_role("img", name="营业执照.png")).to_be_visible(timeout=10_000)
    drawer.get_by_text("生产许可证.pdf").click()
    expect(drawer.locator("iframe")).to_be_visible()
    drawer.get_by_text("诚信承诺书.png").click()
    expect(drawer.get_by_role("img", name="诚信承诺书.png")).to_be_visible()
    drawer.get_by_label("审核意见").fill("诚信承诺书未加盖公章")
    materials = drawer.get_by_role("group", name="需补充的材料")
    materials.get_by_text("诚信承诺书").click()
    expect(materials.get_by_role("checkbox", name="诚信承诺书")).to_be_checked()
    console.screenshot(path=SHOTS / "03-console-rejects.png")
    drawer.get_by_role("button", name="不通过").click()
    expect(console.get_by_text("已通知用户").first).to_be_visible(timeout=10_000)

    told = chat.locator(".msg.system").filter(has_text="未通过审核")
    expect(told).to_be_visible(timeout=15_000)
    expect(told).to_contain_text("诚信承诺书未加盖公章")
    expect(told).to_contain_text("需补充：诚信承诺书")
    chat.screenshot(path=SHOTS / "04-chat-told-rejection.png")
    [rejected] = _rows(stack, CustomerReview, customer_id=customer.id)
    assert (rejected.status, rejected.missing_documents, rejected.notice_how) == (
        "rejected",
        ["integrity_pledge"],
        "web",
    )

    # the enterprise completes the application in the chat: only the pledge is asked again
    _say(chat, "补充资料")
    expect(
        chat.locator(".msg.bot").filter(has_text="原因：诚信承诺书未加盖公章").last
    ).to_be_visible()
    expect(
        chat.locator(".msg.bot").filter(has_text="请上传加盖公章的诚信承诺书").last
    ).to_be_visible()
    _upload(chat, files["pledge2"], "已收到诚信承诺书")
    expect(chat.locator(".msg.bot").filter(has_text="注册资料已提交审核").last).to_be_visible()
    reviews = _rows(stack, CustomerReview, customer_id=customer.id)
    assert [r.status for r in reviews] == ["rejected", "pending"]
    documents = _rows(stack, Document, customer_id=customer.id)
    newest = documents[-1]
    assert (newest.kind, newest.original_name) == ("integrity_pledge", "诚信承诺书（盖章）.png")
    assert sorted(reviews[1].document_ids) == sorted([documents[0].id, documents[1].id, newest.id])

    approved = httpx.post(
        f"{base}/api/customers/reviews/{reviews[1].id}/decision",
        headers=staff,
        json={"decision": "approved"},
        timeout=10,
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["notice_how"] == "web"
    told = chat.locator(".msg.system").filter(has_text="已审核通过")
    expect(told).to_be_visible(timeout=15_000)
    chat.screenshot(path=SHOTS / "05-chat-told-approval.png", full_page=True)
    [customer] = _rows(stack, Customer, credit_code=CREDIT_CODE)
    assert customer.verification == "approved"

    # asking again says so rather than opening the form
    _say(chat, "我要注册")
    expect(chat.locator(".msg.bot").filter(has_text="无需重复注册").last).to_be_visible()
