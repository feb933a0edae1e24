"""撤回授权 on the web chat page in a real Chromium, on the real stack (Rasa, actions, app):
a need that gives a mobile ends in a demand; the enterprise withdraws its consent with the
page's control and its confirmation; then the demand's row, the transcript's rows and Rasa's
tracker (read through Rasa's HTTP API with the token) hold no mobile, and the page shows what
was erased and what is kept; on SQLite and PostgreSQL. Screenshots go under
var/screenshots/privacy/."""

import json
import re
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.stack import Stack
from channels.models import InboundMessage
from channels.transcript import ChatMessage
from desk.db import get_sessionmaker
from desk.demands.models import Demand
from desk.paths import REPO_ROOT
from tests.e2e.conftest import on_both_databases
from tests.e2e.test_web_browser import DEMAND_NUMBER, PHONE, Page, browser  # noqa: F401

MOBILE = "13912345678"
SHOTS = REPO_ROOT / "var" / "screenshots" / "privacy"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stack(request: pytest.FixtureRequest, stack: Stack) -> Stack:
    """The withdrawal runs on the SQLite stack and again on the PostgreSQL one (desk,
    transcripts and Rasa's tracker store in one database there)."""
    return on_both_databases(request, stack)


def tracker_json(stack: Stack, conversation_id: str) -> str:
    settings = stack.settings
    response = httpx.get(
        f"{settings.rasa_url}/conversations/{conversation_id}/tracker",
        params={"token": settings.secret("rasa_token"), "include_events": "ALL"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return json.dumps(response.json(), ensure_ascii=False)


def test_withdrawing_consent_on_the_web_page_erases_the_mobile(stack: Stack, browser: Any) -> None:  # noqa: F811
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(stack.settings.desk_url + "/")
    chat = Page(page, stack)
    page.wait_for_selector(".msg.bot")
    conversation = chat.conversation_id

    chat.type(f"我们有一批电线电缆需要做检测，联系电话{MOBILE}")
    answers = {
        "need_place": "江阴市周庄镇",
        "need_quantity": "200米",
        "need_date": "跳过",
        "need_service_mode": "1",
        "need_company": "跳过",
        "need_credit_code": "跳过",
        "contact_name": "张伟",
        "contact_mobile": MOBILE,
        "privacy_consent": "同意",
    }
    done = ""
    for _ in range(14):
        slot = chat.requested_slot()
        if slot in answers:
            chat.type(answers[slot])
            continue
        done = chat.click(re.compile(r"^(好的|提交)"))
        break
    found = DEMAND_NUMBER.search(done)
    assert found, done
    number = found.group(0)
    assert stack.settings.database_url
    sessions = get_sessionmaker(stack.settings.database_url)
    with sessions() as session:
        demand = session.scalars(select(Demand).where(Demand.number == number)).one()
        assert demand.contact_mobile == MOBILE and demand.conversation_id == conversation
    assert MOBILE in tracker_json(stack, conversation)  # what the withdrawal must erase

    # The header's control, then its confirmation.
    page.get_by_role("button", name="撤回授权").click()
    dialog = page.get_by_role("dialog", name="撤回授权")
    assert dialog.is_visible()
    assert "需求和投诉的编号及办理内容会保留" in dialog.inner_text()
    page.get_by_role("button", name="取消").click()
    assert not dialog.is_visible()
    page.get_by_role("button", name="撤回授权").click()
    page.get_by_role("button", name="确认撤回").click()
    told = page.locator(".msg.system .bubble").filter(has_text="已为您撤回授权")
    told.wait_for(timeout=30_000)
    text = told.inner_text()
    assert number in text and "已保留：需求和投诉的编号、办理内容和进度" in text
    page_text = page.locator("#log").inner_text()
    assert MOBILE not in page_text and "139****5678" not in page_text
    assert "我们有一批电线电缆需要做检测" in page_text  # the need itself is kept
    shot = SHOTS / f"web-withdrawal-{stack.settings.database_url.split(':')[0]}.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    print(f"\nscreenshot: {shot}")

    with sessions() as session:
        demand = session.scalars(select(Demand).where(Demand.number == number)).one()
        assert (demand.contact_name, demand.contact_mobile) == ("[已删除]", "")
        assert (demand.product, demand.place) == ("电线电缆", "江阴市周庄镇")
        rows = list(
            session.scalars(select(ChatMessage).where(ChatMessage.conversation_id == conversation))
        )
        assert len(rows) > 10
        kept = list(
            session.scalars(
                select(InboundMessage).where(InboundMessage.conversation_id == conversation)
            )
        )
        assert len(kept) > 5  # the user's messages as kept for the bot, with its replies
        stored = json.dumps(
            [(r.text, r.payload) for r in rows] + [(m.bot_text, m.replies) for m in kept],
            ensure_ascii=False,
        )
        assert MOBILE not in stored and "张伟" not in stored
    tracker = tracker_json(stack, conversation)
    assert MOBILE not in tracker and "张伟" not in tracker
    assert '"contact_mobile": null' in tracker

    # A reload shows the erased conversation; the bot goes on, without the withdrawn contact.
    page.reload()
    page.locator(".msg.system .bubble").filter(has_text="已为您撤回授权").wait_for()
    assert MOBILE not in page.locator("#log").inner_text()
    assert errors == []
    context.close()
