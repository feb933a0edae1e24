"""Human help: the escalation on request or after two failed understandings; the fallbacks."""

import json
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import handoff_context
from bot.actions.handoff import (
    ActionEscalate,
    ActionHandleFallback,
    consecutive_failures,
    conversation_summary,
    service_start_text,
)
from bot.actions.handoff_context import (
    domain_from_need,
    enterprise_of,
    match_domain,
    need_facts,
    recent_user_texts,
)
from retrieval.settings import RetrievalSettings

from .conftest import FakeDesk, escalation_problems
from .trackers import CONVERSATION, DOMAIN, make_tracker, responses, user_event

SEARCH_DOMAIN = handoff_context._match_domain_sync  # before conftest turns the search off
NEED = {
    "need_text": "我们有一批电线电缆需要做检测",
    "need_product": "电线电缆",
    "need_place": "江阴市周庄镇",
    "need_date": "越快越好",
    "need_company": "无锡华澄电缆有限公司",
    "contact_name": "张伟",
    "contact_mobile": "13912345678",
    "need_domain": "检验检测",
    "need_service_ids": ["6.4.2"],
}

CREATED = {
    "id": 7,
    "status": "waiting",
    "within_service_hours": True,
    "next_service_start": "2026-06-01T10:00:00+08:00",
}


def turn(text: str, intent: str, answered_by: str) -> list[dict[str, Any]]:
    return [
        {"event": "action", "name": "action_listen"},
        user_event(text, intent),
        {"event": "action", "name": answered_by},
    ]


def test_consecutive_failures_count_only_fallback_answers() -> None:
    latest = [{"event": "action", "name": "action_listen"}, user_event("啊吧啊吧", "nlu_fallback")]
    assert consecutive_failures(latest) == 1
    assert (
        consecutive_failures(turn("嗯嗯啊", "nlu_fallback", "action_handle_fallback") + latest) == 2
    )
    # a fallback inside a form was an answer, not a failure
    assert consecutive_failures(turn("+86 139", "nlu_fallback", "need_form") + latest) == 1
    assert consecutive_failures(turn("你好", "greet", "utter_core_greet") + latest) == 1


def test_summary_has_the_users_words_masked_and_the_facts() -> None:
    events = [
        user_event("我们有一批电线电缆需要做检测", "request_service"),
        user_event("13912345678", "inform"),
        user_event("/affirm", "affirm"),
        user_event("转人工", "request_human"),
    ]
    summary = conversation_summary(events, {"need_product": "电线电缆", "need_place": "江阴"})
    assert summary.splitlines() == [
        "最近的对话：",
        "用户：我们有一批电线电缆需要做检测",
        "用户：139****5678",
        "用户：转人工",
        "已了解的信息：",
        "需求产品：电线电缆",
        "所在区域：江阴",
    ]
    assert "13912345678" not in summary


def test_service_start_is_said_in_chinese() -> None:
    assert service_start_text("2026-06-01T09:00:00+08:00") == "6月1日（周一）09:00"
    assert service_start_text("not a date") == ""


async def test_request_opens_an_escalation(fake_desk: FakeDesk) -> None:
    fake_desk.on("POST", "/api/escalations", CREATED, status=201)
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        text="转人工", intent="request_human", history=[user_event("强制检定怎么办", "ask_faq")]
    )
    assert await ActionEscalate().run(dispatcher, tracker, DOMAIN) == []
    [body] = fake_desk.bodies("POST", "/api/escalations")
    assert body == {
        "conversation_id": CONVERSATION,
        "reason": "requested",
        "channel": "web",
        "summary": "最近的对话：\n用户：强制检定怎么办\n用户：转人工",
        "domain": "other",
        "need": None,
        "enterprise": None,
    }
    assert fake_desk.requests[0].headers["Authorization"] == "Bearer bot-test-token"
    assert responses(dispatcher) == ["utter_handoff_waiting"]


async def test_after_hours_the_reply_says_when(fake_desk: FakeDesk) -> None:
    fake_desk.on(
        "POST",
        "/api/escalations",
        CREATED
        | {"within_service_hours": False, "next_service_start": "2026-06-08T09:00:00+08:00"},
    )
    dispatcher = CollectingDispatcher()
    await ActionEscalate().run(dispatcher, make_tracker(intent="request_human"), DOMAIN)
    assert responses(dispatcher) == ["utter_handoff_after_hours"]
    assert dispatcher.messages[0]["next_service_start"] == "6月8日（周一）09:00"
    hours = DOMAIN["responses"]["utter_handoff_after_hours"][0]["text"]
    assert "工作日 9:00—17:00" in hours


async def test_desk_down_is_said(fake_desk: FakeDesk) -> None:
    fake_desk.on("POST", "/api/escalations", {"detail": "down"}, status=503)
    dispatcher = CollectingDispatcher()
    await ActionEscalate().run(dispatcher, make_tracker(intent="request_human"), DOMAIN)
    assert responses(dispatcher) == ["utter_handoff_failed"]


async def test_first_failure_asks_to_rephrase(fake_desk: FakeDesk) -> None:
    dispatcher = CollectingDispatcher()
    await ActionHandleFallback().run(
        dispatcher, make_tracker(text="啊吧", intent="nlu_fallback"), DOMAIN
    )
    assert responses(dispatcher) == ["utter_core_fallback"]
    # what was not understood goes to the desk's list that drives new knowledge
    assert fake_desk.bodies("POST", "/api/reports/unanswered") == [
        {
            "conversation_id": "web:5f0c7a1e-test",
            "message_id": "m-1",
            "channel": "web",
            "kind": "fallback",
            "text": "啊吧",
        }
    ]


async def test_second_failure_in_a_row_goes_to_a_person(fake_desk: FakeDesk) -> None:
    fake_desk.on("POST", "/api/escalations", CREATED, status=201)
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        text="额额额",
        intent="nlu_fallback",
        history=turn("啊吧", "nlu_fallback", "action_handle_fallback"),
    )
    await ActionHandleFallback().run(dispatcher, tracker, DOMAIN)
    assert responses(dispatcher) == ["utter_handoff_fallback", "utter_handoff_waiting"]
    assert json.loads(fake_desk.requests[0].content)["reason"] == "fallback"


@pytest.mark.parametrize(
    ("before", "response"),
    [
        ([], "utter_core_out_of_scope"),
        (
            turn("讲个笑话", "out_of_scope", "action_handle_fallback"),
            "utter_core_out_of_scope_again",
        ),
    ],
)
async def test_out_of_scope_two_stages(fake_desk: FakeDesk, before: list, response: str) -> None:
    dispatcher = CollectingDispatcher()
    await ActionHandleFallback().run(
        dispatcher,
        make_tracker(text="今天天气怎么样", intent="out_of_scope", history=before),
        DOMAIN,
    )
    assert responses(dispatcher) == [response] and fake_desk.requests == []


# --- what the expert sees at a glance: domain, need, enterprise -----------------------------------


@pytest.fixture
def domain_search(monkeypatch: pytest.MonkeyPatch, retrieval_settings: RetrievalSettings) -> None:
    """The escalation's domain search on the real index (e5 model, FAISS, seed knowledge)."""
    import retrieval.settings

    monkeypatch.setattr(handoff_context, "_match_domain_sync", SEARCH_DOMAIN)
    monkeypatch.setattr(retrieval.settings, "get_settings", lambda: retrieval_settings)


async def test_a_stated_need_gives_the_domain_the_need_and_the_enterprise(
    fake_desk: FakeDesk,
) -> None:
    fake_desk.on("POST", "/api/escalations", CREATED, status=201)
    tracker = make_tracker(slots=NEED, text="转人工", intent="request_human")
    await ActionEscalate().run(CollectingDispatcher(), tracker, DOMAIN)
    [body] = fake_desk.bodies("POST", "/api/escalations")
    assert body["domain"] == "testing"
    assert body["need"] == {
        "product": "电线电缆",
        "place": "江阴市周庄镇",
        "urgency": "越快越好",
        "contact_masked": "张伟 139****5678",
    }
    assert body["enterprise"] == "无锡华澄电缆有限公司"
    assert "13912345678" not in json.dumps(body, ensure_ascii=False)
    assert escalation_problems(body) == []


@pytest.mark.parametrize(
    ("slots", "domain"),
    [
        ({"need_domain": "计量"}, "metrology"),
        ({"need_domain": "其他/综合"}, "other"),
        ({"need_domain": "ip"}, "ip"),
        ({"need_service_ids": ["6.2.1", "6.4.2"]}, "standardization"),
        ({"need_service_ids": ["5.3b"]}, "other"),
        ({"need_domain": None, "need_service_ids": None}, None),
    ],
)
def test_the_domain_of_a_need(slots: dict[str, Any], domain: str | None) -> None:
    assert domain_from_need(slots) == domain


def test_only_what_is_known_of_the_need_is_sent() -> None:
    assert need_facts({}) is None
    assert need_facts({"need_product": "压力表", "need_date": ""}) == {"product": "压力表"}
    assert need_facts({"contact_mobile": "13912345678"}) == {"contact_masked": "139****5678"}
    # a number typed into a free answer is masked as well
    assert need_facts({"need_place": "新吴区，电话13912345678"}) == {
        "place": "新吴区，电话139****5678"
    }
    assert enterprise_of({"need_company": ""}) is None
    assert enterprise_of({"need_company": "甲" * 150}) == "甲" * 100


def test_the_users_recent_words_are_searched() -> None:
    events = [
        user_event("你好", "greet"),
        user_event("/request_human", "request_human"),
        user_event("我们厂的压力表需要校准", "request_service"),
        user_event("多少钱", "ask_faq"),
        user_event("转人工", "request_human"),
    ]
    assert recent_user_texts(events) == ["我们厂的压力表需要校准", "多少钱", "转人工"]


@pytest.mark.usefixtures("domain_search")
async def test_without_a_need_the_domain_comes_from_the_best_service_match(
    fake_desk: FakeDesk,
) -> None:
    fake_desk.on("POST", "/api/escalations", CREATED, status=201)
    tracker = make_tracker(
        text="转人工",
        intent="request_human",
        history=[user_event("我们厂的压力表需要校准", "ask_faq")],
    )
    await ActionEscalate().run(CollectingDispatcher(), tracker, DOMAIN)
    [body] = fake_desk.bodies("POST", "/api/escalations")
    assert body["domain"] == "metrology"
    assert body["need"] is None and body["enterprise"] is None


@pytest.mark.usefixtures("domain_search")
async def test_nothing_close_enough_is_other(fake_desk: FakeDesk) -> None:
    assert await match_domain(["我们有一批电线电缆需要做检测"]) == "testing"
    assert await match_domain(["今晚去哪里吃火锅比较好"]) is None
    assert await match_domain(["转人工"]) is None  # 质量门诊 (5.3a) is what it asks for
    fake_desk.on("POST", "/api/escalations", CREATED, status=201)
    tracker = make_tracker(
        text="转人工", intent="request_human", history=[user_event("今晚去哪里吃火锅比较好")]
    )
    await ActionEscalate().run(CollectingDispatcher(), tracker, DOMAIN)
    assert fake_desk.bodies("POST", "/api/escalations")[0]["domain"] == "other"


async def test_a_failed_search_still_escalates(
    fake_desk: FakeDesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(texts: list[str], settings: Any) -> str:
        raise RuntimeError("index missing")

    monkeypatch.setattr(handoff_context, "_match_domain_sync", broken)
    fake_desk.on("POST", "/api/escalations", CREATED, status=201)
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(text="压力表校准找谁", intent="request_human")
    await ActionEscalate().run(dispatcher, tracker, DOMAIN)
    assert fake_desk.bodies("POST", "/api/escalations")[0]["domain"] == "other"
    assert responses(dispatcher) == ["utter_handoff_waiting"]


def test_the_double_refuses_what_the_desk_would() -> None:
    assert escalation_problems({"domain": "计量", "need": {"product": 1}, "x": 1}) == [
        "unknown field x",
        "domain '计量'",
        "need is not a dict of texts",
    ]


def test_the_experts_last_answer_is_in_the_next_summary() -> None:
    summary = conversation_summary([], {"handoff_expert_said": "请到计量所送检。"})
    assert summary.endswith("已了解的信息：\n专家上次的答复：请到计量所送检。")
