"""The bot's side of being reached after the conversation (issue 14): a case found from another
conversation by its number and the mobile (or follow-up code); the complainant's answer to an
outcome (satisfied: recorded; not: the reason, then the complaint reopened); the evaluation
started for the one demand the invitation names. Against a fake desk (tests/bot/conftest.py)."""

import json
from typing import Any

import pytest
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.complaint_result import (
    ActionComplaintSatisfied,
    ActionStartComplaintReopen,
    ActionSubmitComplaintReopen,
    ValidateComplaintReopenForm,
)
from bot.actions.feedback import ActionStartEvaluation
from bot.actions.progress_lookup import (
    ActionSubmitProgressLookup,
    ValidateProgressLookupForm,
    lookup_body,
    prefilled,
    secret_in,
)

from .conftest import FakeDesk
from .trackers import CONVERSATION, DOMAIN, make_tracker, responses

NUMBER = "XQ20260601-0001"
DEMAND = {
    "number": NUMBER,
    "status": "in_service",
    "status_label": "服务中",
    "product": "电线电缆",
    "place": "江阴市周庄镇",
    "respond_due": "2026-06-02",
    "recommend_due": "2026-06-04",
}
COMPLAINT = "TS20260601-0003"


def test_the_pair_is_read_from_one_message() -> None:
    assert secret_in("XQ20260601-0001 139 1234 5678", "XQ20260601-0001") == "13912345678"
    assert secret_in("查询码 k7mp-2qrt", "TS20260601-0003") == "K7MP2QRT"
    assert secret_in("查询码 K7MP2QRT", "XQ20260601-0001") is None  # demands have no codes
    assert secret_in("20260601", "TS20260601-0003") is None  # a date is not a code
    assert secret_in("kmpqrtxy", "TS20260601-0003") == "KMPQRTXY"  # codes may lack digits
    assert prefilled("查一下xq20260601-0001，手机13912345678") == [
        SlotSet("progress_lookup_number", NUMBER),
        SlotSet("progress_lookup_secret", "13912345678"),
    ]
    assert lookup_body("web:x", NUMBER, "13912345678")["mobile"] == "13912345678"
    assert lookup_body("web:x", COMPLAINT, "K7MP2QRT")["follow_up_code"] == "K7MP2QRT"


async def test_the_form_takes_a_number_and_refuses_other_words() -> None:
    form = ValidateProgressLookupForm()
    tracker = make_tracker(active_loop="progress_lookup_form")
    bad = CollectingDispatcher()
    assert await form.validate_progress_lookup_number("上周那个", bad, tracker, DOMAIN) == {
        "progress_lookup_number": None
    }
    assert responses(bad) == ["utter_progress_lookup_number_invalid"]
    both = await form.validate_progress_lookup_number(
        "XQ20260601-0001 13912345678", CollectingDispatcher(), tracker, DOMAIN
    )
    assert both == {"progress_lookup_number": NUMBER, "progress_lookup_secret": "13912345678"}
    wrong = CollectingDispatcher()
    tracker = make_tracker(
        active_loop="progress_lookup_form", slots={"progress_lookup_number": NUMBER}
    )
    assert await form.validate_progress_lookup_secret("下周", wrong, tracker, DOMAIN) == {
        "progress_lookup_secret": None
    }
    assert responses(wrong) == ["utter_progress_lookup_secret_invalid"]


def _found(fake_desk: FakeDesk) -> None:
    fake_desk.on("POST", "/api/cases/lookup", {"kind": "demand", "number": NUMBER})
    fake_desk.on("GET", f"/api/demands/{NUMBER}", DEMAND)
    fake_desk.on("GET", f"/api/demands/{NUMBER}/events", [])


async def test_a_match_shows_the_progress(
    fake_desk: FakeDesk, caplog: pytest.LogCaptureFixture
) -> None:
    _found(fake_desk)
    dispatcher = CollectingDispatcher()
    slots = {"progress_lookup_number": NUMBER, "progress_lookup_secret": "13912345678"}
    events = await ActionSubmitProgressLookup().run(dispatcher, make_tracker(slots=slots), DOMAIN)
    assert events == [
        SlotSet("progress_lookup_number", None),
        SlotSet("progress_lookup_secret", None),
    ]
    assert responses(dispatcher) == ["utter_progress_lookup_found"]
    assert "当前状态：服务中" in dispatcher.messages[0]["detail"]
    assert fake_desk.bodies("POST", "/api/cases/lookup") == [
        {"conversation_id": CONVERSATION, "number": NUMBER, "mobile": "13912345678"}
    ]
    assert "13912345678" not in caplog.text


@pytest.mark.parametrize(
    ("status", "response"),
    [
        (404, "utter_progress_lookup_no_match"),
        (429, "utter_progress_lookup_locked"),
        (503, "utter_progress_unavailable"),
    ],
)
async def test_a_refusal_is_polite_and_says_nothing_of_the_number(
    fake_desk: FakeDesk, status: int, response: str
) -> None:
    fake_desk.on("POST", "/api/cases/lookup", {"detail": {"code": "x", "message": "x"}}, status)
    dispatcher = CollectingDispatcher()
    slots = {"progress_lookup_number": NUMBER, "progress_lookup_secret": "13900000000"}
    await ActionSubmitProgressLookup().run(dispatcher, make_tracker(slots=slots), DOMAIN)
    assert responses(dispatcher) == [response]
    words = str(DOMAIN["responses"][response])
    assert "不存在" not in words and NUMBER not in words


async def test_satisfied_with_the_outcome_named_by_the_button(fake_desk: FakeDesk) -> None:
    fake_desk.on("POST", f"/api/complaints/{COMPLAINT}/satisfaction", {"number": COMPLAINT})
    dispatcher = CollectingDispatcher()
    text = "/complaint_satisfied" + json.dumps({"case_number": COMPLAINT})
    await ActionComplaintSatisfied().run(
        dispatcher, make_tracker(text=text, intent="complaint_satisfied"), DOMAIN
    )
    assert responses(dispatcher) == ["utter_complaint_result_thanks"]
    assert fake_desk.bodies("POST", f"/api/complaints/{COMPLAINT}/satisfaction") == [
        {"conversation_id": CONVERSATION}
    ]


async def test_not_satisfied_in_words_finds_the_newest_outcome_and_reopens(
    fake_desk: FakeDesk,
) -> None:
    fake_desk.on(
        "GET",
        "/api/complaints",
        {
            "items": [
                {"number": "TS20260602-0009", "status": "investigating"},
                {"number": COMPLAINT, "status": "resolved"},
            ]
        },
    )
    events = await ActionStartComplaintReopen().run(
        CollectingDispatcher(),
        make_tracker(text="对处理结果不满意", intent="complaint_unsatisfied"),
        DOMAIN,
    )
    assert events == [
        SlotSet("complaint_reopen_number", COMPLAINT),
        SlotSet("complaint_reopen_reason", None),
        FollowupAction("complaint_reopen_form"),
    ]
    short = CollectingDispatcher()
    form = ValidateComplaintReopenForm()
    assert await form.validate_complaint_reopen_reason("嗯", short, make_tracker(), DOMAIN) == {
        "complaint_reopen_reason": None
    }
    assert responses(short) == ["utter_complaint_reopen_reason_invalid"]

    fake_desk.on(
        "POST",
        f"/api/complaints/{COMPLAINT}/reopen",
        {"number": COMPLAINT, "status": "investigating", "investigation_due": "2026-06-12"},
    )
    done = CollectingDispatcher()
    slots = {"complaint_reopen_number": COMPLAINT, "complaint_reopen_reason": "多收的费用没有退"}
    await ActionSubmitComplaintReopen().run(done, make_tracker(slots=slots), DOMAIN)
    assert responses(done) == ["utter_complaint_reopened"]
    assert done.messages[0]["due"] == "2026-06-12"
    assert fake_desk.bodies("POST", f"/api/complaints/{COMPLAINT}/reopen") == [
        {"reason": "多收的费用没有退", "conversation_id": CONVERSATION}
    ]


async def test_no_outcome_to_answer(fake_desk: FakeDesk) -> None:
    fake_desk.on("GET", "/api/complaints", {"items": []})
    dispatcher = CollectingDispatcher()
    events = await ActionStartComplaintReopen().run(
        dispatcher, make_tracker(text="不满意", intent="complaint_unsatisfied"), DOMAIN
    )
    assert events == [] and responses(dispatcher) == ["utter_complaint_result_none"]


async def test_the_invitation_starts_the_evaluation_of_its_demand(fake_desk: FakeDesk) -> None:
    other: dict[str, Any] = DEMAND | {"number": "XQ20260602-0002", "status": "completed"}
    fake_desk.on("GET", "/api/demands", {"items": [other, DEMAND | {"status": "completed"}]})
    dispatcher = CollectingDispatcher()
    text = "/give_feedback" + json.dumps({"case_number": NUMBER})
    events = await ActionStartEvaluation().run(
        dispatcher, make_tracker(text=text, intent="give_feedback"), DOMAIN
    )
    assert SlotSet("feedback_demand", NUMBER) in events  # no list to pick from
    assert events[-1] == SlotSet("feedback_state", "ready")
    assert responses(dispatcher) == ["utter_feedback_start"]
