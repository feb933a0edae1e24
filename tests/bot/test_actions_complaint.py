"""The complaint form (§7.4.2) and opening the complaint on a fake desk."""

from typing import Any

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.common import idempotency_key
from bot.actions.complaint import (
    COMPLAINT_SLOTS,
    ActionAskComplaintContactMobile,
    ActionAskComplaintDecision,
    ActionAskComplaintType,
    ActionCompleteComplaint,
    ActionResetComplaint,
    ActionStartComplaint,
    complaint_body,
    complaint_required_slots,
    complaint_type_of,
)
from bot.actions.complaint_form import ValidateComplaintForm

from .conftest import FakeDesk
from .trackers import CONVERSATION, DOMAIN, entity, make_tracker, responses

FILLED = {
    "complaint_institution": "远澄线缆",
    "complaint_type": "efficiency",
    "complaint_content": "送检的电缆样品两周了还没出报告",
    "complaint_request": "希望尽快出报告",
}


async def validate(candidates: dict[str, Any], **kwargs: Any) -> tuple[list, CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(candidates=candidates, active_loop="complaint_form", **kwargs)
    events = await ValidateComplaintForm().run(dispatcher, tracker, DOMAIN)
    return events, dispatcher


def test_contact_name_is_asked_only_with_a_mobile() -> None:
    assert complaint_required_slots({}) == [
        "complaint_institution",
        "complaint_type",
        "complaint_content",
        "complaint_request",
        "complaint_contact_mobile",
        "complaint_decision",
    ]
    assert "complaint_contact_name" in complaint_required_slots(
        {"complaint_contact_mobile": "13912345678"}
    )
    assert "complaint_contact_name" not in complaint_required_slots(
        {"complaint_contact_mobile": ""}
    )  # anonymous


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        ("1", "attitude"),
        ("第二个", "efficiency"),
        ("收费问题", "fees"),
        ("报告数据不准", "quality"),
        ("5", "other"),
        ("他们拖了两个月", "efficiency"),
        ("说不上来", None),
    ],
)
def test_complaint_types(answer: str, code: str | None) -> None:
    assert complaint_type_of(answer) == code


async def test_start_keeps_an_institution_named_in_the_message() -> None:
    text = "我要投诉远澄线缆"
    tracker = make_tracker(
        text=text,
        intent="file_complaint",
        entities=[entity("company", "远澄线缆", text)],
        slots={"complaint_institution": "远澄线缆"},
    )
    events = await ActionStartComplaint().run(CollectingDispatcher(), tracker, DOMAIN)
    assert events == [SlotSet(n, None) for n in COMPLAINT_SLOTS if n != "complaint_institution"] + [
        SlotSet("pending_choice", None)
    ]


async def test_institution_then_the_type_question() -> None:
    events, dispatcher = await validate(
        {"complaint_institution": "江阴远澄线缆检测中心"},
        slots={"requested_slot": "complaint_institution"},
        text="江阴远澄线缆检测中心",
    )
    assert events == [
        SlotSet("complaint_institution", "江阴远澄线缆检测中心"),
        SlotSet("requested_slot", "complaint_type"),
    ]
    assert dispatcher.messages == []


async def test_an_unclear_type_is_asked_again() -> None:
    events, dispatcher = await validate(
        {"complaint_type": "说不上来"},
        slots={"complaint_institution": "远澄线缆", "requested_slot": "complaint_type"},
        text="说不上来",
    )
    assert events == [SlotSet("complaint_type", None), SlotSet("requested_slot", "complaint_type")]
    assert responses(dispatcher) == ["utter_complaint_type_invalid"]


async def test_content_and_request() -> None:
    events, _ = await validate(
        {"complaint_content": "送检的电缆样品两周了还没出报告"},
        slots={
            "complaint_institution": "远澄线缆",
            "complaint_type": "efficiency",
            "requested_slot": "complaint_content",
        },
        text="送检的电缆样品两周了还没出报告",
        intent="file_complaint",
    )
    assert events == [
        SlotSet("complaint_content", "送检的电缆样品两周了还没出报告"),
        SlotSet("requested_slot", "complaint_request"),
    ]
    events, _ = await validate(
        {"complaint_request": "没有"},
        slots=FILLED | {"complaint_request": None, "requested_slot": "complaint_request"},
        text="没有",
        intent="deny",
    )
    assert events == [
        SlotSet("complaint_request", ""),
        SlotSet("requested_slot", "complaint_contact_mobile"),
    ]


async def test_a_mobile_after_the_notice_is_consent(fake_desk: FakeDesk) -> None:
    fake_desk.on("POST", "/api/consents", {"id": 1}, status=201)
    text = "王芳 13912345678"
    events, _ = await validate(
        {"complaint_contact_mobile": "13912345678", "complaint_contact_name": "王芳"},
        slots=FILLED | {"requested_slot": "complaint_contact_mobile"},
        text=text,
        entities=[entity("person", "王芳", text), entity("mobile", "13912345678", text)],
    )
    assert events == [
        SlotSet("complaint_contact_mobile", "13912345678"),
        SlotSet("complaint_contact_name", "王芳"),
        SlotSet("privacy_consent", True),
        SlotSet("requested_slot", "complaint_decision"),
    ]
    assert fake_desk.bodies("POST", "/api/consents")[0]["agreed"] is True


async def test_anonymous_complaint(fake_desk: FakeDesk) -> None:
    fake_desk.on("POST", "/api/consents", {"id": 1}, status=201)
    events, _ = await validate(
        {"complaint_contact_mobile": "匿名"},
        slots=FILLED | {"requested_slot": "complaint_contact_mobile"},
        text="匿名",
    )
    assert events == [
        SlotSet("complaint_contact_mobile", ""),
        SlotSet("complaint_contact_name", ""),
        SlotSet("privacy_consent", False),
        SlotSet("requested_slot", "complaint_decision"),
    ]
    assert fake_desk.bodies("POST", "/api/consents")[0]["agreed"] is False


async def test_the_needs_contact_can_be_reused(fake_desk: FakeDesk) -> None:
    known = {"privacy_consent": True, "contact_name": "张伟", "contact_mobile": "13912345678"}
    dispatcher = CollectingDispatcher()
    await ActionAskComplaintContactMobile().run(dispatcher, make_tracker(slots=known), DOMAIN)
    assert responses(dispatcher) == ["utter_ask_complaint_contact"]
    assert dispatcher.messages[0]["contact_options"] == (
        "1. 使用刚才的联系方式（张伟 139****5678）\n2. 匿名投诉"
    )
    events, _ = await validate(
        {"complaint_contact_mobile": "1"},
        slots=FILLED | known | {"requested_slot": "complaint_contact_mobile"},
        text="1",
    )
    assert events == [
        SlotSet("complaint_contact_mobile", "13912345678"),
        SlotSet("complaint_contact_name", "张伟"),
        SlotSet("requested_slot", "complaint_decision"),
    ]
    assert fake_desk.requests == []  # already agreed: nothing to record


async def test_contact_question_with_the_notice_before_consent() -> None:
    dispatcher = CollectingDispatcher()
    await ActionAskComplaintContactMobile().run(dispatcher, make_tracker(), DOMAIN)
    assert responses(dispatcher) == ["utter_ask_complaint_contact_with_notice"]
    assert dispatcher.messages[0]["buttons"] == [{"title": "匿名投诉", "payload": "1"}]


async def test_a_wrong_mobile_is_explained() -> None:
    events, dispatcher = await validate(
        {"complaint_contact_mobile": "1391234"},
        slots=FILLED | {"requested_slot": "complaint_contact_mobile"},
        text="1391234",
    )
    assert events[0] == SlotSet("complaint_contact_mobile", None)
    assert responses(dispatcher) == ["utter_complaint_contact_invalid"]


@pytest.mark.parametrize(
    ("text", "intent", "decision"),
    [
        ("1", "inform", "submit"),
        ("/affirm", "affirm", "submit"),
        ("确认提交", "affirm", "submit"),
        ("2", "inform", "cancel"),
        ("/deny", "deny", "cancel"),
    ],
)
async def test_decision(text: str, intent: str, decision: str) -> None:
    events, _ = await validate(
        {"complaint_decision": text},
        slots=FILLED
        | {
            "complaint_contact_mobile": "",
            "complaint_contact_name": "",
            "requested_slot": "complaint_decision",
        },
        text=text,
        intent=intent,
    )
    assert events == [SlotSet("complaint_decision", decision), SlotSet("requested_slot", None)]


async def test_an_institution_correction_on_the_summary() -> None:
    text = "机构名字说错了，是江阴远澄线缆检测中心"
    events, dispatcher = await validate(
        {"complaint_institution": "江阴远澄线缆检测中心"},
        slots=FILLED
        | {
            "complaint_contact_mobile": "",
            "complaint_contact_name": "",
            "requested_slot": "complaint_decision",
        },
        text=text,
        intent="correct_info",
    )
    assert events == [
        SlotSet("complaint_institution", "江阴远澄线缆检测中心"),
        SlotSet("requested_slot", "complaint_decision"),
    ]
    assert dispatcher.messages == []


async def test_questions_offer_numbered_choices() -> None:
    dispatcher = CollectingDispatcher()
    await ActionAskComplaintType().run(dispatcher, make_tracker(), DOMAIN)
    assert dispatcher.messages[0]["complaint_types"].splitlines()[0] == "1. 服务态度"
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == ["1", "2", "3", "4", "5"]
    dispatcher = CollectingDispatcher()
    slots = FILLED | {"complaint_contact_mobile": "", "complaint_contact_name": ""}
    await ActionAskComplaintDecision().run(dispatcher, make_tracker(slots=slots), DOMAIN)
    message = dispatcher.messages[0]
    assert "· 投诉类型：服务效率（拖延、超时）" in message["complaint_summary"]
    assert "· 联系方式：匿名（提交后给您查询码）" in message["complaint_summary"]
    assert message["complaint_options"] == "1. 确认提交\n2. 取消投诉"


CREATED = {
    "number": "TS20260601-0001",
    "investigation_due": "2026-06-10",
    "status": "received",
    "institution_id": "inst-yuancheng-cable-lab",
    "institution_title": "江阴远澄线缆检测中心",
    "follow_up_code": None,
}


async def test_complete_opens_the_complaint(fake_desk: FakeDesk) -> None:
    fake_desk.on("POST", "/api/complaints", CREATED, status=201)
    slots = FILLED | {
        "complaint_contact_mobile": "13912345678",
        "complaint_contact_name": "王芳",
        "complaint_decision": "submit",
    }
    dispatcher = CollectingDispatcher()
    events = await ActionCompleteComplaint().run(
        dispatcher, make_tracker(slots=slots, text="1", message_id="m-7"), DOMAIN
    )
    assert events == [
        *[SlotSet(n, None) for n in COMPLAINT_SLOTS],
        SlotSet("complaint_last_number", "TS20260601-0001"),
    ]
    assert responses(dispatcher) == [
        "utter_complaint_received",
        "utter_complaint_institution_linked",
    ]
    assert dispatcher.messages[0]["investigation_due"] == "2026-06-10"
    assert fake_desk.bodies("POST", "/api/complaints") == [
        {
            "conversation_id": CONVERSATION,
            "channel": "online",
            "institution_name": "远澄线缆",
            "complaint_type": "efficiency",
            "content": "送检的电缆样品两周了还没出报告",
            "demand": "希望尽快出报告",
            "contact_name": "王芳",
            "contact_mobile": "13912345678",
        }
    ]
    assert fake_desk.requests[0].headers["Idempotency-Key"] == idempotency_key(CONVERSATION, "m-7")


async def test_anonymous_complaint_gets_its_follow_up_code(fake_desk: FakeDesk) -> None:
    fake_desk.on(
        "POST",
        "/api/complaints",
        CREATED | {"follow_up_code": "ABCD2345", "institution_title": None},
        status=201,
    )
    slots = FILLED | {
        "complaint_contact_mobile": "",
        "complaint_contact_name": "",
        "complaint_decision": "submit",
    }
    dispatcher = CollectingDispatcher()
    await ActionCompleteComplaint().run(dispatcher, make_tracker(slots=slots), DOMAIN)
    assert responses(dispatcher) == ["utter_complaint_received", "utter_complaint_follow_up_code"]
    assert dispatcher.messages[1]["follow_up_code"] == "ABCD2345"
    assert fake_desk.bodies("POST", "/api/complaints")[0]["contact_mobile"] is None


async def test_a_failed_submit_keeps_the_complaint(fake_desk: FakeDesk) -> None:
    fake_desk.on("POST", "/api/complaints", {"detail": "boom"}, status=500)
    slots = FILLED | {"complaint_contact_mobile": "", "complaint_decision": "submit"}
    dispatcher = CollectingDispatcher()
    events = await ActionCompleteComplaint().run(
        dispatcher, make_tracker(slots=slots, message_id="m-8"), DOMAIN
    )
    assert events == [
        SlotSet("complaint_submit_key", idempotency_key(CONVERSATION, "m-8")),
        SlotSet("complaint_pending", True),
    ]
    assert responses(dispatcher) == ["utter_complaint_submit_failed"]


async def test_cancelled_complaint_sends_nothing(fake_desk: FakeDesk) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionCompleteComplaint().run(
        dispatcher, make_tracker(slots=FILLED | {"complaint_decision": "cancel"}), DOMAIN
    )
    assert events == [SlotSet(n, None) for n in COMPLAINT_SLOTS]
    assert responses(dispatcher) == ["utter_complaint_cancelled"] and fake_desk.requests == []
    assert await ActionResetComplaint().run(CollectingDispatcher(), make_tracker(), DOMAIN) == [
        SlotSet(n, None) for n in COMPLAINT_SLOTS
    ]


def test_body_without_contact_is_anonymous() -> None:
    body = complaint_body(
        "web:x", FILLED | {"complaint_contact_mobile": "", "complaint_contact_name": ""}
    )
    assert body["contact_mobile"] is None and body["contact_name"] is None


# --- a contact given one question early (bot/actions/listening.py) --------------------------------


async def test_a_contact_given_for_the_request_is_kept_and_not_the_request(
    fake_desk: FakeDesk,
) -> None:
    filled = {k: v for k, v in FILLED.items() if k != "complaint_request"}
    text = "张伟 13912345678"
    events, dispatcher = await validate(
        {"complaint_request": text},
        slots=filled | {"requested_slot": "complaint_request"},
        text=text,
        entities=[entity("person", "张伟", text), entity("mobile", "13912345678", text)],
    )
    assert events == [
        SlotSet("complaint_request", None),
        SlotSet("complaint_contact_name", "张伟"),
        SlotSet("complaint_contact_mobile", "13912345678"),
        SlotSet("requested_slot", "complaint_request"),  # what they want is still to be asked
    ]
    assert responses(dispatcher) == ["utter_complaint_contact_noted"]
    assert fake_desk.requests == []  # the notice was not shown: no consent yet


async def test_a_request_with_a_mobile_keeps_both_apart() -> None:
    filled = {k: v for k, v in FILLED.items() if k != "complaint_request"}
    text = "希望重新检测，电话13912345678"
    events, _ = await validate(
        {"complaint_request": text},
        slots=filled | {"requested_slot": "complaint_request"},
        text=text,
    )
    assert events == [
        SlotSet("complaint_request", "希望重新检测"),
        SlotSet("complaint_contact_mobile", "13912345678"),
        SlotSet("requested_slot", "complaint_consent"),  # the notice for the kept mobile
    ]


async def test_the_notice_for_a_kept_mobile_then_agreed(fake_desk: FakeDesk) -> None:
    from bot.actions.complaint_form import ActionAskComplaintConsent

    fake_desk.on("POST", "/api/consents", {"id": 1}, status=201)
    kept = FILLED | {"complaint_contact_mobile": "13912345678", "complaint_contact_name": "张伟"}
    dispatcher = CollectingDispatcher()
    await ActionAskComplaintConsent().run(dispatcher, make_tracker(slots=kept), DOMAIN)
    assert responses(dispatcher) == ["utter_ask_complaint_consent"]
    assert dispatcher.messages[0]["mobile"] == "139****5678"
    events, _ = await validate(
        {"complaint_consent": "1"}, slots=kept | {"requested_slot": "complaint_consent"}, text="1"
    )
    assert events == [
        SlotSet("complaint_consent", True),
        SlotSet("privacy_consent", True),
        SlotSet("requested_slot", "complaint_decision"),
    ]
    assert fake_desk.bodies("POST", "/api/consents")[0]["agreed"] is True


async def test_the_notice_for_a_kept_mobile_declined_makes_it_anonymous(
    fake_desk: FakeDesk,
) -> None:
    fake_desk.on("POST", "/api/consents", {"id": 1}, status=201)
    kept = FILLED | {"complaint_contact_mobile": "13912345678", "complaint_contact_name": "张伟"}
    events, _ = await validate(
        {"complaint_consent": "2"}, slots=kept | {"requested_slot": "complaint_consent"}, text="2"
    )
    assert events == [
        SlotSet("complaint_consent", False),
        SlotSet("privacy_consent", False),
        SlotSet("complaint_contact_mobile", ""),
        SlotSet("complaint_contact_name", ""),
        SlotSet("requested_slot", "complaint_decision"),
    ]
    assert fake_desk.bodies("POST", "/api/consents")[0]["agreed"] is False


async def test_the_contact_question_again_is_brief() -> None:
    shown = [
        {"event": "action", "name": "utter_complaint_start"},
        {
            "event": "bot",
            "text": "为便于把处理结果反馈给您……\n【隐私提示】联系方式仅用于处理本次投诉……",
        },
    ]
    dispatcher = CollectingDispatcher()
    await ActionAskComplaintContactMobile().run(dispatcher, make_tracker(history=shown), DOMAIN)
    assert responses(dispatcher) == ["utter_ask_complaint_contact_again"]


async def test_a_date_word_is_not_the_complainants_name() -> None:
    events, dispatcher = await validate(
        {"complaint_contact_name": "下周"},
        slots=FILLED
        | {
            "complaint_contact_mobile": "13912345678",
            "privacy_consent": True,
            "requested_slot": "complaint_contact_name",
        },
        text="下周",
    )
    assert events[0] == SlotSet("complaint_contact_name", None)
    assert responses(dispatcher) == ["utter_need_name_invalid"]
