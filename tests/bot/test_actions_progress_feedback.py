"""Progress of own demands and complaints, and the evaluation after a completed service."""

from typing import Any

import pytest
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.feedback import (
    FEEDBACK_SLOTS,
    ActionAskFeedbackDemand,
    ActionAskFeedbackProcess,
    ActionResetFeedback,
    ActionStartEvaluation,
    ActionSubmitEvaluation,
    ValidateFeedbackForm,
    overall_score,
)
from bot.actions.progress import ActionShowProgress, open_items

from .conftest import FakeDesk
from .trackers import CONVERSATION, DOMAIN, make_tracker, responses

DEMAND = {
    "number": "XQ20260601-0001",
    "status": "submitted",
    "status_label": "已提交",
    "product": "电线电缆",
    "place": "江阴市周庄镇",
    "respond_due": "2026-06-02",
    "recommend_due": "2026-06-04",
    "respond_overdue": False,
    "recommend_overdue": False,
}
COMPLAINT = {
    "number": "TS20260601-0001",
    "status": "investigating",
    "status_label": "调查核实中",
    "institution_name": "远澄线缆",
    "complaint_type_label": "服务效率",
    "investigation_due": "2026-06-10",
    "overdue": True,
    "resolution": None,
}
CLOSED = [
    DEMAND | {"number": "XQ20260501-0009", "status": "evaluated"},
    COMPLAINT | {"number": "TS20260501-0003", "status": "informed"},
]


@pytest.fixture
def desk_records(fake_desk: FakeDesk) -> FakeDesk:
    fake_desk.on("GET", "/api/demands", {"items": [DEMAND, CLOSED[0]]})
    fake_desk.on("GET", "/api/complaints", {"items": [COMPLAINT, CLOSED[1]]})
    fake_desk.on("GET", f"/api/demands/{DEMAND['number']}", DEMAND)
    fake_desk.on(
        "GET",
        f"/api/demands/{DEMAND['number']}/events",
        [
            {
                "from_status": None,
                "to_status": "submitted",
                "to_status_label": "已提交",
                "actor": "bot",
                "note": "需求已提交",
                "at": "2026-06-01T10:00:00+08:00",
            }
        ],
    )
    fake_desk.on("GET", f"/api/complaints/{COMPLAINT['number']}", COMPLAINT)
    return fake_desk


def test_open_items_with_next_step_and_deadline() -> None:
    items = open_items([DEMAND, CLOSED[0]], [COMPLAINT, CLOSED[1]])
    assert [i.number for i in items] == ["XQ20260601-0001", "TS20260601-0001"]
    assert items[0].line == (
        "需求 XQ20260601-0001（电线电缆）：已提交；下一步：平台响应您的需求，期限 2026-06-02"
    )
    assert items[1].line.endswith("下一步：调查核实，期限 2026-06-10（已逾期，我们会督促处理）")


async def test_progress_lists_then_shows_one(desk_records: FakeDesk) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionShowProgress().run(
        dispatcher, make_tracker(text="查一下进度", intent="check_progress"), DOMAIN
    )
    assert events == [
        SlotSet("progress_items", ["XQ20260601-0001", "TS20260601-0001"]),
        SlotSet("pending_choice", "progress"),
    ]
    assert responses(dispatcher) == ["utter_progress_list"]
    assert dispatcher.messages[0]["progress_items"].startswith("1. 需求 XQ20260601-0001")
    for request in desk_records.requests:
        assert request.url.params["conversation_id"] == CONVERSATION  # only its own

    detail = CollectingDispatcher()
    slots = {"progress_items": ["XQ20260601-0001", "TS20260601-0001"], "pending_choice": "progress"}
    events = await ActionShowProgress().run(detail, make_tracker(text="1", slots=slots), DOMAIN)
    assert events == [SlotSet("progress_items", None), SlotSet("pending_choice", None)]
    text = detail.messages[0]["detail"]
    assert "需求 XQ20260601-0001" in text and "· 响应期限：2026-06-02" in text
    assert "  - 2026-06-01 10:00 已提交：需求已提交" in text


async def test_a_number_in_the_question_goes_straight_to_its_details(
    desk_records: FakeDesk,
) -> None:
    dispatcher = CollectingDispatcher()
    await ActionShowProgress().run(
        dispatcher, make_tracker(text="查一下ts20260601-0001", intent="check_progress"), DOMAIN
    )
    text = dispatcher.messages[0]["detail"]
    assert "投诉 TS20260601-0001" in text and "· 调查核实期限：2026-06-10" in text


async def test_a_number_of_another_conversation_asks_for_the_mobile(fake_desk: FakeDesk) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionShowProgress().run(
        dispatcher, make_tracker(text="XQ20260601-0099", intent="check_progress"), DOMAIN
    )
    assert responses(dispatcher) == ["utter_progress_lookup_elsewhere"]
    assert events[-2:] == [
        SlotSet("progress_lookup_number", "XQ20260601-0099"),
        FollowupAction("progress_lookup_form"),
    ]


async def test_nothing_open_asks_for_the_number_and_mobile(fake_desk: FakeDesk) -> None:
    fake_desk.on("GET", "/api/demands", {"items": [CLOSED[0]]})
    fake_desk.on("GET", "/api/complaints", {"items": []})
    dispatcher = CollectingDispatcher()
    events = await ActionShowProgress().run(
        dispatcher,
        make_tracker(text="我上周提交的需求现在怎么样了", intent="check_progress"),
        DOMAIN,
    )
    assert responses(dispatcher) == ["utter_progress_lookup_intro"]
    assert events[-1] == FollowupAction("progress_lookup_form")
    assert "我的需求" not in str(DOMAIN["responses"]["utter_progress_lookup_intro"])


async def test_desk_down(fake_desk: FakeDesk) -> None:
    fake_desk.on("GET", "/api/demands", {"detail": "down"}, status=503)
    dispatcher = CollectingDispatcher()
    await ActionShowProgress().run(dispatcher, make_tracker(intent="check_progress"), DOMAIN)
    assert responses(dispatcher) == ["utter_progress_unavailable"]


# --- evaluation --------------------------------------------------------------------------------

COMPLETED = DEMAND | {"status": "completed", "status_label": "已完成"}


async def test_one_completed_demand_is_evaluated_directly(fake_desk: FakeDesk) -> None:
    fake_desk.on("GET", "/api/demands", {"items": [COMPLETED, DEMAND | {"number": "XQ2"}]})
    dispatcher = CollectingDispatcher()
    events = await ActionStartEvaluation().run(
        dispatcher, make_tracker(text="我要评价服务", intent="give_feedback"), DOMAIN
    )
    assert events == [
        *[SlotSet(n, None) for n in FEEDBACK_SLOTS],
        SlotSet("pending_choice", None),
        SlotSet("feedback_candidates", ["XQ20260601-0001"]),
        SlotSet("feedback_labels", ["XQ20260601-0001（电线电缆）"]),
        SlotSet("feedback_demand", "XQ20260601-0001"),
        SlotSet("feedback_state", "ready"),
    ]
    assert responses(dispatcher) == ["utter_feedback_start"]


async def test_several_are_asked_for_and_none_is_said(fake_desk: FakeDesk) -> None:
    second = COMPLETED | {"number": "XQ20260602-0002", "product": "压力表"}
    fake_desk.on("GET", "/api/demands", {"items": [COMPLETED, second]})
    events = await ActionStartEvaluation().run(
        CollectingDispatcher(), make_tracker(intent="give_feedback"), DOMAIN
    )
    assert SlotSet("feedback_demand", "XQ20260601-0001") not in events
    assert events[-1] == SlotSet("feedback_state", "ready")
    ask = CollectingDispatcher()
    await ActionAskFeedbackDemand().run(
        ask,
        make_tracker(
            slots={"feedback_labels": ["XQ20260601-0001（电线电缆）", "XQ20260602-0002（压力表）"]}
        ),
        DOMAIN,
    )
    assert ask.messages[0]["demands"] == (
        "1. XQ20260601-0001（电线电缆）\n2. XQ20260602-0002（压力表）"
    )

    fake_desk.on("GET", "/api/demands", {"items": [DEMAND]})
    nothing = CollectingDispatcher()
    events = await ActionStartEvaluation().run(
        nothing, make_tracker(intent="give_feedback"), DOMAIN
    )
    assert events[-1] == SlotSet("feedback_state", "none")
    assert responses(nothing) == ["utter_feedback_none"]


async def validate(candidates: dict[str, Any], **kwargs: Any) -> tuple[list, CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(candidates=candidates, active_loop="feedback_form", **kwargs)
    return await ValidateFeedbackForm().run(dispatcher, tracker, DOMAIN), dispatcher


@pytest.mark.parametrize(
    ("answer", "score"),
    [("5", 5), ("4分", 4), ("很满意", 5), ("一般", 3), ("不满意", 2), ("三星", 3)],
)
async def test_scores(answer: str, score: int) -> None:
    events, dispatcher = await validate(
        {"feedback_process": answer}, slots={"requested_slot": "feedback_process"}, text=answer
    )
    assert events == [SlotSet("feedback_process", score)] and dispatcher.messages == []


async def test_a_score_out_of_range_is_asked_again() -> None:
    events, dispatcher = await validate(
        {"feedback_attitude": "10分"}, slots={"requested_slot": "feedback_attitude"}, text="10分"
    )
    assert events == [SlotSet("feedback_attitude", None)]
    assert responses(dispatcher) == ["utter_feedback_score_invalid"]


async def test_demand_choice_and_comment() -> None:
    candidates = ["XQ20260601-0001", "XQ20260602-0002"]
    events, _ = await validate(
        {"feedback_demand": "2"},
        slots={"feedback_candidates": candidates, "requested_slot": "feedback_demand"},
        text="2",
    )
    assert events == [SlotSet("feedback_demand", "XQ20260602-0002")]
    events, _ = await validate(
        {"feedback_comment": "没有"}, slots={"requested_slot": "feedback_comment"}, text="没有"
    )
    assert events == [SlotSet("feedback_comment", "")]


async def test_score_questions_offer_five_choices() -> None:
    dispatcher = CollectingDispatcher()
    await ActionAskFeedbackProcess().run(dispatcher, make_tracker(), DOMAIN)
    assert dispatcher.messages[0]["response"] == "utter_ask_feedback_process"
    assert dispatcher.messages[0]["scores"].splitlines() == [
        "5. 非常满意",
        "4. 满意",
        "3. 一般",
        "2. 不满意",
        "1. 非常不满意",
    ]  # the digit is the score
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == ["5", "4", "3", "2", "1"]


def test_overall_score_is_the_rounded_mean() -> None:
    assert overall_score([5, 4, 5]) == 5 and overall_score([4, 4, 3]) == 4
    assert overall_score([1, 2, 2]) == 2 and overall_score([3, 4, 4]) == 4


SCORED = {
    "feedback_demand": "XQ20260601-0001",
    "feedback_process": 5,
    "feedback_efficiency": 3,
    "feedback_attitude": 4,
    "feedback_comment": "报告可以再快一点",
    "feedback_state": "ready",
}


async def test_submit_records_the_evaluation(fake_desk: FakeDesk) -> None:
    path = "/api/demands/XQ20260601-0001/evaluation"
    fake_desk.on("POST", path, {"overall_score": 4}, status=201)
    dispatcher = CollectingDispatcher()
    events = await ActionSubmitEvaluation().run(dispatcher, make_tracker(slots=SCORED), DOMAIN)
    assert events == [*[SlotSet(n, None) for n in FEEDBACK_SLOTS], SlotSet("feedback_state", None)]
    assert fake_desk.bodies("POST", path) == [
        {
            "process_score": 5,
            "efficiency_score": 3,
            "attitude_score": 4,
            "overall_score": 4,
            "comment": "报告可以再快一点",
        }
    ]
    assert fake_desk.requests[0].url.params["conversation_id"] == CONVERSATION
    assert responses(dispatcher) == ["utter_feedback_thanks"]


@pytest.mark.parametrize(
    ("status", "response"), [(409, "utter_feedback_not_allowed"), (500, "utter_feedback_failed")]
)
async def test_submit_refused(fake_desk: FakeDesk, status: int, response: str) -> None:
    fake_desk.on(
        "POST",
        "/api/demands/XQ20260601-0001/evaluation",
        {"detail": {"code": "illegal_transition", "message": "x"}},
        status=status,
    )
    dispatcher = CollectingDispatcher()
    await ActionSubmitEvaluation().run(dispatcher, make_tracker(slots=SCORED), DOMAIN)
    assert responses(dispatcher) == [response]


async def test_reset_feedback() -> None:
    events = await ActionResetFeedback().run(CollectingDispatcher(), make_tracker(), DOMAIN)
    assert events == [*[SlotSet(n, None) for n in FEEDBACK_SLOTS], SlotSet("feedback_state", None)]
