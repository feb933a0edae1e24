"""One consultation in the console: the conversation view, replies and notes, closing, the
demand and the knowledge draft an expert opens; a fake conversation port records what it got."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.main import create_desk_app
from app.settings import AppSettings
from desk.audit import entries_for
from desk.consultations import ports
from desk.consultations.models import ConsultationNote, KnowledgeDraft
from desk.consultations.schemas import TranscriptLine
from desk.customers.settings import PrivacySettings, get_privacy_settings
from desk.demands.models import Demand
from desk.provided import provided

from .console import FakePort, claim, detail, make_user, open_escalation, session_for

CONVERSATION = "web:consult-1"
NEED = {"product": "电线电缆", "place": "无锡市新吴区", "contact_masked": "138****1111"}


@pytest.fixture
def port() -> FakePort:
    start = datetime.now(UTC) - timedelta(minutes=5)
    return FakePort(
        lines=[
            TranscriptLine(id=1, sender="user", text="我们有一批电线电缆要检测", created_at=start),
            TranscriptLine(
                id=2, sender="bot", text="请问在哪个城市？", created_at=start + timedelta(seconds=5)
            ),
            TranscriptLine(
                id=3, sender="user", text="无锡，转人工", created_at=start + timedelta(seconds=9)
            ),
        ]
    )


@pytest.fixture
def console(app_settings: AppSettings, port: FakePort) -> Iterator[TestClient]:
    app = create_desk_app(app_settings)
    provided(app)[get_privacy_settings] = lambda: PrivacySettings(require_consent=False)
    provided(app)[ports.get_conversation_port] = lambda: port
    with TestClient(app) as test_client:
        yield test_client


def _held(console: TestClient, service_headers: dict[str, str]) -> tuple[int, dict[str, str]]:
    zhang = make_user(console, "zhang.expert", display_name="张工")
    escalation = open_escalation(
        console,
        service_headers,
        CONVERSATION,
        domain="testing",
        need=NEED,
        enterprise="无锡某线缆有限公司",
        summary="电线电缆检测，无锡",
    )
    claim(console, zhang, escalation["id"])
    return escalation["id"], zhang


def test_who_may_read_a_consultation(console: TestClient, service_headers: dict[str, str]) -> None:
    zhang = make_user(console, "zhang.expert")
    li = make_user(console, "li.expert")
    staff = make_user(console, "wang.staff", "staff")
    escalation_id = open_escalation(console, service_headers, CONVERSATION)["id"]
    url = f"/api/escalations/{escalation_id}"
    for headers in (zhang, li, staff):  # waiting: every expert may look before claiming
        assert console.get(f"{url}/conversation", headers=headers).status_code == 200
    claim(console, zhang, escalation_id)
    refused = console.get(f"{url}/conversation", headers=li)
    assert detail(refused) == (403, "not_yours", "该会话由其他专家接待，您不能查看。")
    assert console.get(f"{url}/suggestions", headers=li).status_code == 403
    assert console.get(f"{url}/conversation", headers=zhang).status_code == 200
    assert console.get(f"{url}/conversation", headers=staff).status_code == 200
    assert console.get(f"{url}/conversation", headers=service_headers).status_code == 403
    assert console.get("/api/escalations/99999/conversation", headers=staff).status_code == 404


def test_conversation_view_merges_transcript_and_private_notes(
    console: TestClient, service_headers: dict[str, str], port: FakePort, app_settings: AppSettings
) -> None:
    escalation_id, zhang = _held(console, service_headers)
    url = f"/api/escalations/{escalation_id}"
    staff = make_user(console, "wang.staff", "staff", display_name="王敏")

    note = console.post(f"{url}/notes", headers=staff, json={"text": "  该企业上月投诉过  "})
    assert note.status_code == 201, note.text
    assert note.json()["sender"] == "note" and note.json()["text"] == "该企业上月投诉过"
    assert (note.json()["author"], note.json()["author_name"]) == ("wang.staff", "王敏")
    blank = console.post(f"{url}/notes", headers=zhang, json={"text": "   "})
    assert blank.status_code == 422 and "备注内容不能为空" in blank.json()["detail"]["message"]
    assert port.sent == []  # a private note never goes through the conversation port

    view = console.get(f"{url}/conversation", headers=zhang)
    assert view.status_code == 200, view.text
    body = view.json()
    assert [(ln["sender"], ln["text"]) for ln in body["transcript"]] == [
        ("user", "我们有一批电线电缆要检测"),
        ("bot", "请问在哪个城市？"),
        ("user", "无锡，转人工"),
        ("note", "该企业上月投诉过"),
    ]
    assert body["escalation"]["expert_name"] == "张工"
    assert body["escalation"]["last_message_at"] is not None
    assert body["need_summary"] == {
        "domain": "testing",
        "product": "电线电缆",
        "place": "无锡市新吴区",
        "urgency": None,
        "contact_masked": "138****1111",
        "text": "电线电缆检测，无锡",
    }
    assert body["window"]["free_text"] is True and body["window"]["remaining"] == 5
    assert (body["customer"], body["demands"], body["complaints"]) == (None, [], [])

    with session_for(app_settings) as session:
        [row] = session.scalars(select(ConsultationNote)).all()
        assert (row.escalation_id, row.conversation_id, row.author) == (
            escalation_id,
            CONVERSATION,
            "wang.staff",
        )


def test_replies_go_through_the_port_only_from_the_holder(
    console: TestClient, service_headers: dict[str, str], port: FakePort
) -> None:
    escalation_id, zhang = _held(console, service_headers)
    url = f"/api/escalations/{escalation_id}/messages"
    li = make_user(console, "li.expert")
    staff = make_user(console, "wang.staff", "staff")
    reply = {"text": " 可以送样到无锡市计量院检测。 ", "client_id": "c-000001"}

    sent = console.post(url, headers=zhang, json=reply)
    assert sent.status_code == 201, sent.text
    assert (
        sent.json()["sender"] == "expert" and sent.json()["text"] == "可以送样到无锡市计量院检测。"
    )
    assert port.sent == [
        {
            "conversation_id": CONVERSATION,
            "channel": "web",
            "text": "可以送样到无锡市计量院检测。",
            "mode": "send",
            "author": "zhang.expert",
            "client_id": "c-000001",
        }
    ]
    for headers in (li, staff):
        refused = console.post(url, headers=headers, json=reply | {"client_id": "c-000002"})
        assert detail(refused) == (403, "not_yours", "请先认领该会话，再回复企业。")
    assert (
        console.post(url, headers=zhang, json={"text": "  ", "client_id": "c-000003"}).status_code
        == 422
    )
    assert (
        console.post(url, headers=zhang, json={"text": "好", "client_id": "x"}).status_code == 422
    )
    assert len(port.sent) == 1

    closed = console.post(
        f"/api/escalations/{escalation_id}/close", headers=zhang, json={"outcome": "answered"}
    )
    assert closed.status_code == 200
    late = console.post(url, headers=zhang, json=reply | {"client_id": "c-000004"})
    assert detail(late) == (409, "illegal_transition", "该咨询已结束，不能再回复。")
    assert len(port.sent) == 1


def test_without_channels_a_reply_is_refused(
    client: TestClient, service_headers: dict[str, str]
) -> None:
    zhang = make_user(client, "zhang.expert")
    escalation_id = open_escalation(client, service_headers, CONVERSATION)["id"]
    claim(client, zhang, escalation_id)
    answer = client.post(
        f"/api/escalations/{escalation_id}/messages",
        headers=zhang,
        json={"text": "您好", "client_id": "c-000001"},
    )
    assert detail(answer) == (503, "channels_absent", "会话通道未启用，无法发送。")
    view = client.get(f"/api/escalations/{escalation_id}/conversation", headers=zhang).json()
    assert view["window"] == {
        "channel": "web",
        "free_text": False,
        "reason": "会话通道未启用。",
        "remaining": None,
        "until": None,
        "template_available": False,
    }


def test_close_hands_back_to_the_bot_after_the_release(
    console: TestClient, service_headers: dict[str, str], port: FakePort, app_settings: AppSettings
) -> None:
    escalation_id, zhang = _held(console, service_headers)
    url = f"/api/escalations/{escalation_id}/close"
    li = make_user(console, "li.expert")
    assert console.post(url, headers=li, json={"outcome": "answered"}).status_code == 403
    assert console.post(url, headers=zhang, json={"outcome": "maybe"}).status_code == 422
    assert port.handed_back == []

    closed = console.post(
        url, headers=zhang, json={"outcome": "complaint_opened", "note": "已转投诉"}
    )
    assert closed.status_code == 200, closed.text
    assert (closed.json()["status"], closed.json()["outcome_label"]) == ("closed", "已受理投诉")
    assert port.handed_back == [
        {
            "conversation_id": CONVERSATION,
            "channel": "web",
            "expert": "zhang.expert",
            "outcome": "complaint_opened",
            "escalation_id": escalation_id,
        }
    ]
    assert console.post(url, headers=zhang, json={"outcome": "answered"}).status_code == 409
    assert len(port.handed_back) == 1  # a refused close hands nothing back
    with session_for(app_settings) as session:
        [*_, release] = entries_for(session, subject=f"escalation:{escalation_id}")
    assert (release.action, release.details["outcome"]) == (
        "escalation.release",
        "complaint_opened",
    )


def _bot_demand(console: TestClient, service_headers: dict[str, str]) -> None:
    response = console.post(
        "/api/demands",
        headers=service_headers,
        json={
            "conversation_id": CONVERSATION,
            "need_text": "电线电缆检测",
            "product": "电线电缆",
            "place": "无锡市新吴区",
            "contact_name": "李娜",
            "contact_mobile": "13800001111",
        },
    )
    assert response.status_code == 201, response.text


def test_the_expert_opens_one_demand_with_the_contact_filled_in(
    console: TestClient, service_headers: dict[str, str], app_settings: AppSettings
) -> None:
    escalation_id, zhang = _held(console, service_headers)
    url = f"/api/escalations/{escalation_id}"
    staff = make_user(console, "wang.staff", "staff")

    draft = console.get(f"{url}/demand-draft", headers=zhang)
    assert draft.status_code == 200, draft.text
    assert draft.json()["need_text"] == "电线电缆检测，无锡"
    assert (draft.json()["product"], draft.json()["place"]) == ("电线电缆", "无锡市新吴区")
    assert draft.json()["contact_mobile"] == "138****1111"  # the bot's masked number
    assert draft.json()["company_name"] == "无锡某线缆有限公司"
    assert console.get(f"{url}/demand-draft", headers=staff).status_code == 403

    fields = draft.json() | {"contact_name": "李娜"}
    unknown = console.post(f"{url}/demand", headers=zhang, json=fields)
    assert detail(unknown) == (
        422,
        "mobile_needed",
        "平台没有该企业的联系电话，请向企业确认后填写。",
    )
    missing = console.post(
        f"{url}/demand",
        headers=zhang,
        json=fields | {"contact_name": " ", "contact_mobile": "13800002222"},
    )
    assert detail(missing) == (422, "invalid_demand", "需求信息不完整或有误：联系人不能为空")
    wrong = console.post(f"{url}/demand", headers=zhang, json=fields | {"contact_mobile": "12345"})
    assert detail(wrong) == (
        422,
        "invalid_demand",
        "需求信息不完整或有误：联系电话：手机号码应为11位中国大陆手机号，例如 13912345678",
    )

    _bot_demand(console, service_headers)  # the desk now knows the number
    assert (
        console.get(f"{url}/demand-draft", headers=zhang).json()["contact_mobile"] == "138****1111"
    )
    opened = console.post(f"{url}/demand", headers=zhang, json=fields | {"contact_mobile": ""})
    assert opened.status_code == 201, opened.text
    number = opened.json()["number"]
    assert opened.json()["contact_mobile"] == "138****1111"  # the expert sees it masked
    assert opened.json()["recommended_by"] == "staff"
    again = console.post(f"{url}/demand", headers=zhang, json=fields | {"product": "别的"})
    assert again.json()["number"] == number  # one demand per consultation
    assert console.post(f"{url}/demand", headers=staff, json=fields).status_code == 403

    with session_for(app_settings) as session:
        demand = session.scalar(select(Demand).where(Demand.number == number))
        assert demand is not None
        assert (demand.contact_mobile, demand.product) == ("13800001111", "电线电缆")
        assert demand.idempotency_key == f"escalation:{escalation_id}"
        [entry] = entries_for(session, subject=number)
    assert (entry.actor, entry.action) == ("zhang.expert", "demand.create")


def test_knowledge_draft_goes_to_the_review_queue(
    console: TestClient, service_headers: dict[str, str], app_settings: AppSettings
) -> None:
    escalation_id, zhang = _held(console, service_headers)
    url = f"/api/escalations/{escalation_id}/knowledge-draft"
    body = {"question": " 电线电缆去哪里检测？ ", "answer": "可送样到无锡市计量院。"}
    li = make_user(console, "li.expert")
    staff = make_user(console, "wang.staff", "staff")
    assert console.post(url, headers=staff, json=body).status_code == 403
    assert console.post(url, headers=li, json=body).status_code == 403
    assert console.post(url, headers=zhang, json=body | {"answer": "x"}).status_code == 422

    saved = console.post(url, headers=zhang, json=body)
    assert saved.status_code == 201, saved.text
    assert saved.json() | {"id": 0} == {
        "id": 0,
        "status": "draft",
        "question": "电线电缆去哪里检测？",
        "answer": "可送样到无锡市计量院。",
        "domain": "testing",
    }
    with session_for(app_settings) as session:
        draft = session.get(KnowledgeDraft, saved.json()["id"])
        assert draft is not None
        assert (draft.author, draft.escalation_id, draft.kind) == (
            "zhang.expert",
            escalation_id,
            "faq",
        )
        [entry] = entries_for(session, subject=f"knowledge_draft:{draft.id}")
    assert entry.details == {"escalation_id": escalation_id, "kind": "faq"}


def test_suggestions_follow_the_users_last_message(
    console: TestClient,
    service_headers: dict[str, str],
    port: FakePort,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    escalation_id, zhang = _held(console, service_headers)
    asked: list[tuple[str, str]] = []

    class Hit:
        def __init__(self, kind: str) -> None:
            self.id, self.kind, self.title, self.score = f"{kind}-1", kind, f"{kind}标题", 0.9
            self.entry: Any = type("E", (), {"answer": f"{kind}答案", "summary": lambda s: ""})()

    class Searcher:
        def search(self, text: str, *, kind: str, k: int) -> list[Hit]:
            asked.append((text, kind))
            return [Hit(kind)]

    monkeypatch.setattr("desk.consultations.service.get_searcher", lambda: Searcher())
    found = console.get(f"/api/escalations/{escalation_id}/suggestions", headers=zhang)
    assert found.status_code == 200, found.text
    assert found.json()["query"] == "无锡，转人工"
    assert [(r["kind"], r["text"]) for r in found.json()["results"]] == [
        ("faq", "faq答案"),
        ("service", "service答案"),
        ("institution", "institution答案"),
    ]
    assert asked == [
        ("无锡，转人工", "faq"),
        ("无锡，转人工", "service"),
        ("无锡，转人工", "institution"),
    ]

    port.lines = [line for line in port.lines if line.sender != "user"]
    empty = console.get(f"/api/escalations/{escalation_id}/suggestions", headers=zhang)
    assert empty.json() == {"query": "", "results": []}
