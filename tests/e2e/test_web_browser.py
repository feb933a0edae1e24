"""The web chat page in a real headless Chromium (Debian's chromium, driven by Playwright).

A whole need → demand conversation on the real stack at a phone's width: typed answers, a
quick-reply button, the demand number on the page, history after a reload, markup shown as text,
and a screenshot under the test's temporary folder.
"""

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import sync_playwright

from app.stack import Stack

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
DEMAND_NUMBER = re.compile(r"XQ\d{8}-\d{4}")
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


class Page:
    def __init__(self, page: Any, stack: Stack) -> None:
        self.page = page
        self.stack = stack

    @property
    def conversation_id(self) -> str:
        cid: str = self.page.evaluate("localStorage.getItem('qclinic.conversation_id')")
        return cid

    def bubbles(self, sender: str = "bot") -> list[str]:
        texts: list[str] = self.page.locator(f".msg.{sender} .bubble").all_inner_texts()
        return texts

    def type(self, text: str) -> str:
        """Type and send; the bot's new bubbles once the typing indicator is gone."""
        before = len(self.bubbles("bot"))
        self.page.fill("#text", text)
        self.page.click("#send")
        return self._answer(before)

    def click(self, title: re.Pattern[str]) -> str:
        before = len(self.bubbles("bot"))
        self.page.locator(".msg.bot .buttons button").filter(has_text=title).last.click()
        return self._answer(before)

    def _answer(self, before: int) -> str:
        self.page.wait_for_function(
            "n => document.querySelectorAll('.msg.bot').length > n", arg=before, timeout=60_000
        )
        self.page.wait_for_selector("#typing", state="hidden", timeout=60_000)
        return "\n".join(self.bubbles("bot")[before:])

    def requested_slot(self) -> str | None:
        settings = self.stack.settings
        response = httpx.get(
            f"{settings.rasa_url}/conversations/{self.conversation_id}/tracker",
            params={"token": settings.secret("rasa_token")},
            timeout=10,
        )
        slot: str | None = response.json()["slots"].get("requested_slot")
        return slot


def test_need_to_demand_in_chromium(stack: Stack, browser: Any, tmp_path: Path) -> None:
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(stack.settings.desk_url + "/")
    chat = Page(page, stack)
    page.wait_for_selector(".msg.bot")  # the greeting
    assert chat.conversation_id.startswith("web:")

    chat.type("我们有一批电线电缆需要做检测")
    assert chat.requested_slot() == "need_place"
    answers = {
        "need_place": "江阴市周庄镇",
        "need_quantity": "200米",
        "need_date": "跳过",
        "need_service_mode": "1",
        "need_company": "跳过",
        "need_credit_code": "跳过",
        "contact_name": "张伟",
        "contact_mobile": "13912345678",
        "privacy_consent": "同意",
    }
    done = ""
    for _ in range(14):
        slot = chat.requested_slot()
        if slot in answers:
            chat.type(answers[slot])
            continue
        # The confirmation: a quick-reply button submits.
        done = chat.click(re.compile(r"^(好的|提交)"))
        break
    number = DEMAND_NUMBER.search(done)
    assert number, done
    page.wait_for_selector(f".msg.bot >> text={number.group(0)}")

    # Reload: the history comes back from the server, the demand number with it.
    page.reload()
    page.wait_for_selector(f".msg.bot >> text={number.group(0)}")
    assert "我们有一批电线电缆需要做检测" in chat.bubbles("user")

    # Markup typed by a user is shown as text, never run.
    chat.type('<img src=x onerror="window.__pwned=1">')
    assert '<img src=x onerror="window.__pwned=1">' in chat.bubbles("user")
    assert page.evaluate("window.__pwned") is None
    assert page.locator(".msg img").count() == 0

    # At a phone's width nothing runs off the side.
    overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert overflow is False

    shot = tmp_path / "web-chat-demand.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    print(f"\nscreenshot: {shot}")
    assert errors == []
    context.close()
