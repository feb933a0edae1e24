"""The service catalogue beside the web chat, in a real headless Chromium on the real stack.

Desktop: browse a domain, open a service's manual, search by keyword, open an institution, and
咨询这项服务 → the chat asks the next question (the product), not the service; the need's service is
in Rasa's tracker. Phone (390 px): the catalogue opens from the header; 咨询 returns to the chat.
Screenshots of both widths are saved under the test's temporary folder.
"""

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from app.stack import Stack

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}
SERVICE = "检验检测需求匹配与委托检测"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


def tracker(stack: Stack, page: Any) -> dict[str, Any]:
    cid = page.evaluate("localStorage.getItem('qclinic.conversation_id')")
    response = httpx.get(
        f"{stack.settings.rasa_url}/conversations/{cid}/tracker",
        params={"token": stack.settings.secret("rasa_token")},
        timeout=10,
    )
    response.raise_for_status()
    data: dict[str, Any] = response.json()
    return data


def bot_texts(page: Any) -> list[str]:
    texts: list[str] = page.locator(".msg.bot .bubble").all_inner_texts()
    return texts


def wait_reply(page: Any, before: int) -> str:
    page.wait_for_function(
        "n => document.querySelectorAll('.msg.bot').length > n", arg=before, timeout=60_000
    )
    page.wait_for_selector("#typing", state="hidden", timeout=60_000)
    return "\n".join(bot_texts(page)[before:])


def test_catalogue_on_a_desktop(stack: Stack, browser: Any, tmp_path: Path) -> None:
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(stack.settings.desk_url + "/")
    panel = page.get_by_role("complementary", name="服务目录")
    expect(panel).to_be_visible()
    page.wait_for_selector(".msg.bot")  # the chat's greeting beside it
    expect(page.locator("#catalogue-toggle")).to_be_hidden()

    # browse: a domain, then a service's operating manual
    panel.get_by_role("button", name=re.compile(r"^检验检测")).click()
    panel.get_by_role("button", name=re.compile(SERVICE)).click()
    expect(panel.get_by_role("heading", name=SERVICE)).to_be_visible()
    for heading in ("受理条件", "办事材料", "服务流程", "服务承诺"):
        expect(panel.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    manual = httpx.get(f"{stack.settings.desk_url}/api/catalogue/services/6.4.2").json()
    expect(panel.get_by_text(manual["materials"][0], exact=True)).to_be_visible()
    expect(panel.get_by_text(manual["institutions"][0]["title"], exact=True).first).to_be_visible()
    page.screenshot(path=str(tmp_path / "catalogue-desktop-service.png"))

    # keyword search, then an institution's page
    panel.get_by_role("searchbox", name="搜索服务目录").fill("压力表")
    panel.get_by_role("button", name="搜索", exact=True).click()
    # the app's first search loads the model: allow it the time the chat gets
    expect(panel.get_by_text("“压力表”的搜索结果")).to_be_visible(timeout=60_000)
    expect(panel.get_by_text(re.compile(r"^服务机构（\d+）$"))).to_be_visible()
    panel.get_by_role("button", name=re.compile(r"^江阴周庄精准计量校准有限公司")).first.click()
    expect(panel.get_by_role("heading", name="江阴周庄精准计量校准有限公司")).to_be_visible()
    expect(panel.get_by_role("heading", name="可办理的服务")).to_be_visible()
    page.screenshot(path=str(tmp_path / "catalogue-desktop-institution.png"))

    # back to the service, 咨询这项服务: the chat asks for the product, not the service
    panel.get_by_role("button", name="‹ 返回").click()
    expect(panel.get_by_text("“压力表”的搜索结果")).to_be_visible(timeout=30_000)
    panel.get_by_role("tab", name="服务事项").click()
    panel.get_by_role("button", name=re.compile(r"^检验检测")).click()
    panel.get_by_role("button", name=re.compile(SERVICE)).click()
    before = len(bot_texts(page))
    panel.get_by_role("button", name=f"咨询这项服务：{SERVICE}", exact=True).click()
    reply = wait_reply(page, before)
    assert f"您选择的服务事项：{SERVICE}（检验检测）" in reply
    assert "产品或对象" in reply and "需要办理什么服务" not in reply
    assert f"咨询这项服务：{SERVICE}" in page.locator(".msg.user .bubble").all_inner_texts()
    state = tracker(stack, page)
    assert state["slots"]["need_service_ids"] == ["6.4.2"]
    assert state["slots"]["requested_slot"] == "need_product"
    page.screenshot(path=str(tmp_path / "catalogue-desktop-consult.png"))
    print(f"\nscreenshots: {tmp_path}")
    assert errors == []
    context.close()


def test_catalogue_on_a_phone(stack: Stack, browser: Any, tmp_path: Path) -> None:
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(stack.settings.desk_url + "/")
    page.wait_for_selector(".msg.bot")
    panel = page.locator("#catalogue")
    expect(panel).to_be_hidden()  # the chat first; the catalogue a tap away
    page.screenshot(path=str(tmp_path / "catalogue-phone-chat.png"))
    page.get_by_role("button", name="服务目录").click()
    expect(panel).to_be_visible()
    page.get_by_role("button", name=re.compile(r"^计量")).click()
    page.get_by_role("button", name=re.compile("计量器具强制检定办理指导")).click()
    expect(page.get_by_role("heading", name="计量器具强制检定办理指导")).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert overflow is False
    page.screenshot(path=str(tmp_path / "catalogue-phone-service.png"))

    page.get_by_role("button", name="返回对话").click()
    expect(panel).to_be_hidden()
    page.get_by_role("button", name="服务目录").click()
    before = len(bot_texts(page))
    page.get_by_role("button", name="咨询这项服务：计量器具强制检定办理指导", exact=True).click()
    expect(panel).to_be_hidden()
    reply = wait_reply(page, before)
    assert "您选择的服务事项：计量器具强制检定办理指导（计量）" in reply
    assert tracker(stack, page)["slots"]["need_service_ids"] == ["6.1.3"]
    page.screenshot(path=str(tmp_path / "catalogue-phone-consult.png"))
    print(f"\nscreenshots: {tmp_path}")
    assert errors == []
    context.close()
