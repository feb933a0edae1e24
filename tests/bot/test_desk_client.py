"""One contract between the bot and the desk.

The bot's desk client runs the same conversations against the real desk app (in process, through
httpx.ASGITransport, on its own SQLite database) and against the double the other bot tests use
(tests/bot/conftest.py, answering with their canned records). Two more checks tie the two
together: every field the bot sends is one the desk's request schema declares (the desk ignores
unknown fields, so a renamed optional field would otherwise vanish silently), and every field of
the double's canned answers is one the real desk sends. A field renamed on either side fails here.
"""

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from rasa_sdk.executor import CollectingDispatcher

from app.main import create_app
from app.settings import AppSettings
from bot.actions import desk_client, settings
from bot.actions.complaint import ActionCompleteComplaint, complaint_body
from bot.actions.consent import CONSENTS_PATH, record_consent
from bot.actions.demand import DEMANDS_PATH, DemandDraft, submit_demand
from bot.actions.handoff import ESCALATIONS_PATH, escalate
from bot.actions.progress import fetch_detail, fetch_open_items
from bot.actions.unanswered import UNANSWERED_PATH, report_unanswered

from .conftest import FakeDesk
from .test_actions_complaint import CREATED as COMPLAINT_CREATED
from .test_actions_complaint import FILLED as COMPLAINT_SLOTS
from .test_actions_handoff import CREATED as ESCALATION_CREATED
from .test_actions_need import OPENED as DEMAND_OPENED
from .test_actions_progress_feedback import COMPLAINT, DEMAND
from .trackers import CONVERSATION, make_tracker, responses

DEMAND_NUMBER = re.compile(r"^XQ\d{8}-\d{4}$")
COMPLAINT_NUMBER = re.compile(r"^TS\d{8}-\d{4}$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
EVENT = {
    "from_status": None,
    "to_status": "submitted",
    "to_status_label": "已提交",
    "actor": "bot",
    "note": "需求已提交",
    "at": "2026-06-01T10:00:00+08:00",
}
DRAFT = DemandDraft(
    conversation_id=CONVERSATION,
    channel="web",
    need_text="电线电缆需要做型式检验",
    product=str(DEMAND["product"]),
    place=str(DEMAND["place"]),
    contact_name="张伟",
    contact_mobile="13912345678",
    quantity="200米",
    wanted_date="下个月底前",
    service_mode="送样",
    company_name="无锡华澄电缆有限公司",
    credit_code="91320281MA1W6XKQ0T",
)
UNANSWERED_RECORDED = {"id": 1, "normalised": "食堂几点开饭", "created": True}
COMPLAINT_FILLED = COMPLAINT_SLOTS | {
    "complaint_contact_name": "王芳",
    "complaint_contact_mobile": "13912345678",
    "complaint_decision": "submit",
    "privacy_consent": True,
}


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """One database is enough for the contract (the desk's own tests cover PostgreSQL)."""
    return f"sqlite:///{tmp_path / 'desk.db'}"


@pytest.fixture
async def real_desk(
    app_settings: AppSettings, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[FastAPI]:
    """The desk app, started in this event loop; the bot's client talks to it in process."""
    assert app_settings.service_token is not None
    bot_settings = settings.ActionSettings(
        desk_url="http://desk.test", service_token=app_settings.service_token, desk_timeout_s=30
    )
    monkeypatch.setattr(settings, "get_settings", lambda: bot_settings)
    app = create_app(app_settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://desk.test") as client:
            monkeypatch.setattr(desk_client, "get_desk_client", lambda: client)
            yield app


@pytest.fixture
def double(fake_desk: FakeDesk) -> FakeDesk:
    """The double, answering with the records the other bot tests use."""
    number, complaint = str(DEMAND["number"]), str(COMPLAINT["number"])
    fake_desk.on("POST", CONSENTS_PATH, {"id": 1}, status=201)
    fake_desk.on("POST", DEMANDS_PATH, DEMAND_OPENED, status=201)
    fake_desk.on("GET", DEMANDS_PATH, lambda _: _listed(fake_desk, DEMANDS_PATH, DEMAND))
    fake_desk.on("GET", f"{DEMANDS_PATH}/{number}", DEMAND)
    fake_desk.on("GET", f"{DEMANDS_PATH}/{number}/events", [EVENT])
    fake_desk.on("POST", "/api/complaints", COMPLAINT_CREATED, status=201)
    fake_desk.on(
        "GET", "/api/complaints", lambda _: _listed(fake_desk, "/api/complaints", COMPLAINT)
    )
    fake_desk.on("GET", f"/api/complaints/{complaint}", COMPLAINT)
    fake_desk.on("GET", f"/api/complaints/{complaint}/events", [])
    fake_desk.on("POST", ESCALATIONS_PATH, ESCALATION_CREATED, status=201)
    fake_desk.on("POST", UNANSWERED_PATH, UNANSWERED_RECORDED, status=201)
    return fake_desk


def _listed(fake: FakeDesk, path: str, record: dict[str, Any]) -> httpx.Response:
    """The conversation's records, as the desk lists them: the record once it was opened."""
    return httpx.Response(200, json={"items": [record] if fake.bodies("POST", path) else []})


@pytest.fixture(params=["real desk", "double"])
def desk(request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue("real_desk" if request.param == "real desk" else "double")


# --- the same conversations against both ---------------------------------------------------------


async def test_a_demand_is_opened_listed_and_shown(desk: Any) -> None:
    assert await record_consent(CONVERSATION, agreed=True) is True
    opened = await submit_demand(DRAFT, key="bot-contract-demand-1")
    assert DEMAND_NUMBER.match(opened.number)
    assert ISO_DATE.match(opened.respond_due) and ISO_DATE.match(opened.recommend_due)

    items = await fetch_open_items(CONVERSATION)
    assert [item.number for item in items] == [opened.number]
    assert items[0].line == (
        f"需求 {opened.number}（{DRAFT.product}）：已提交；"
        f"下一步：平台响应您的需求，期限 {opened.respond_due}"
    )

    detail = await fetch_detail(CONVERSATION, opened.number.lower())
    assert detail.splitlines()[:6] == [
        f"需求 {opened.number}",
        f"· 产品/对象：{DRAFT.product}",
        f"· 所在区域：{DRAFT.place}",
        "· 当前状态：已提交",
        f"· 响应期限：{opened.respond_due}",
        f"· 推荐期限：{opened.recommend_due}",
    ]
    assert "· 办理经过：" in detail and "已提交" in detail.split("· 办理经过：")[1]


async def test_a_complaint_is_opened_and_shown(desk: Any) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(slots=COMPLAINT_FILLED, text="1", message_id="m-contract")
    await ActionCompleteComplaint().run(dispatcher, tracker, {})
    assert responses(dispatcher)[0] == "utter_complaint_received"
    number = dispatcher.messages[0]["complaint_number"]
    due = dispatcher.messages[0]["investigation_due"]
    assert COMPLAINT_NUMBER.match(number) and ISO_DATE.match(due)

    detail = await fetch_detail(CONVERSATION, number)
    assert detail.startswith(f"投诉 {number}\n· 被投诉机构：")
    assert f"· 调查核实期限：{due}" in detail


async def test_an_escalation_is_opened(desk: Any) -> None:
    dispatcher = CollectingDispatcher()
    await escalate(
        dispatcher, make_tracker(text="我要找人工", intent="request_human"), reason="requested"
    )
    assert responses(dispatcher) in (["utter_handoff_waiting"], ["utter_handoff_after_hours"])
    if responses(dispatcher) == ["utter_handoff_after_hours"]:
        assert dispatcher.messages[0]["next_service_start"] != "下一个工作日 9:00"  # it was read


# --- what each side sends is what the other reads ------------------------------------------------


def request_fields(app: FastAPI, method: str, path: str) -> set[str]:
    """The fields of the desk's request schema for ``method path``, from its OpenAPI description."""
    spec = app.openapi()
    body = spec["paths"][path][method.lower()]["requestBody"]["content"]["application/json"]
    name = body["schema"]["$ref"].rsplit("/", 1)[-1]
    return set(spec["components"]["schemas"][name]["properties"])


async def test_an_unanswered_message_is_reported_once(desk: Any) -> None:
    tracker = make_tracker(text="请问食堂几点开饭", intent="ask_faq", message_id="m-unanswered")
    assert await report_unanswered(tracker, kind="faq_miss")
    assert await report_unanswered(tracker, kind="faq_miss")  # a retry is accepted, not doubled


async def test_every_field_the_bot_sends_is_one_the_desk_declares(
    double: FakeDesk, app_settings: AppSettings
) -> None:
    await test_a_demand_is_opened_listed_and_shown(double)
    await test_a_complaint_is_opened_and_shown(double)
    await test_an_escalation_is_opened(double)
    await test_an_unanswered_message_is_reported_once(double)
    app = create_app(app_settings)  # its OpenAPI description; nothing started
    sent = [(r.method, r.url.path, json.loads(r.content)) for r in double.requests if r.content]
    assert {(method, path) for method, path, _ in sent} == {
        ("POST", CONSENTS_PATH),
        ("POST", DEMANDS_PATH),
        ("POST", "/api/complaints"),
        ("POST", ESCALATIONS_PATH),
        ("POST", UNANSWERED_PATH),
    }
    for method, path, body in sent:
        assert set(body) <= request_fields(app, method, path), (method, path)


async def test_the_doubles_answers_carry_only_fields_the_desk_sends(real_desk: FastAPI) -> None:
    assert await record_consent(CONVERSATION, agreed=True)
    opened = await desk_client.post_json(
        DEMANDS_PATH, DRAFT.payload(), idempotency_key="bot-contract-shape-1"
    )
    assert set(DEMAND_OPENED) <= set(opened)
    number = str(opened["number"])
    demand = await desk_client.get_json(f"{DEMANDS_PATH}/{number}", params=_own())
    assert set(DEMAND) <= set(demand)
    assert set(EVENT) <= set(
        (await desk_client.get_list(f"{DEMANDS_PATH}/{number}/events", params=_own()))[0]
    )
    listed = await desk_client.get_json(DEMANDS_PATH, params=_own())
    assert set(DEMAND) <= set(listed["items"][0])
    # what the bot sent comes back in the same fields
    sent = DRAFT.payload()
    assert {k: demand[k] for k in sent if k in demand} == {k: sent[k] for k in sent if k in demand}
    assert {"quantity", "wanted_date", "service_mode", "company_name", "credit_code"} <= set(demand)

    complaint = await desk_client.post_json(
        "/api/complaints",
        complaint_body(CONVERSATION, COMPLAINT_FILLED),
        idempotency_key="bot-contract-shape-2",
    )
    assert set(COMPLAINT_CREATED) <= set(complaint)
    shown = await desk_client.get_json(f"/api/complaints/{complaint['number']}", params=_own())
    assert set(COMPLAINT) <= set(shown)

    escalation = await desk_client.post_json(
        ESCALATIONS_PATH,
        {"conversation_id": CONVERSATION, "reason": "requested", "summary": "", "channel": "web"},
    )
    assert set(ESCALATION_CREATED) <= set(escalation)


def _own() -> dict[str, str]:
    return {"conversation_id": CONVERSATION}
