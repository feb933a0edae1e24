"""Human help: the escalation on request or after two failed understandings; the fallbacks."""

import json
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.handoff import (
    ActionEscalate,
    ActionHandleFallback,
    consecutive_failures,
    conversation_summary,
    service_start_text,
)

from .conftest import FakeDesk
from .trackers import CONVERSATION, DOMAIN, make_tracker, responses, user_event

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
    assert responses(dispatcher) == ["utter_core_fallback"] and fake_desk.requests == []


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
