"""Registration in chat (§7.1.1): the form's checks, the customer created with consent, each
material labelled on the desk, the review submitted with its due date, resubmission after a
rejection, and the name change (§7.1.1.6) — against a fake desk."""

import json
from datetime import date, timedelta
from typing import Any

import httpx
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.common import china_today
from bot.actions.name_change_form import ValidateNameChangeForm
from bot.actions.registration import (
    ActionStartNameChange,
    ActionStartRegistration,
    ActionSubmitNameChange,
    ActionSubmitRegistration,
)
from bot.actions.registration_docs import (
    NO_DOCUMENT,
    changed_on_of,
    name_change_deadline,
    qualification_reason,
    registration_required_slots,
)
from bot.actions.registration_form import ValidateRegistrationForm
from desk.customers.reviews import one_month_before

from .conftest import FakeDesk
from .trackers import CONVERSATION, DOMAIN, entity, make_tracker, responses

CODE = "91320281MA1W6XKQ0T"
DETAILS = {
    "reg_kind": "enterprise",
    "reg_name": "江阴远澄线缆有限公司",
    "reg_credit_code": CODE,
    "reg_contact_name": "张伟",
}
CUSTOMER = {"id": 42, "kind": "enterprise", "name": "江阴远澄线缆有限公司", "contact_name": "张伟"}


def slots_of(events: list[Any]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


async def validate(
    candidates: dict[str, Any], form: Any = None, **kwargs: Any
) -> tuple[dict[str, Any], CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    loop = "name_change_form" if isinstance(form, ValidateNameChangeForm) else "registration_form"
    tracker = make_tracker(candidates=candidates, active_loop=loop, **kwargs)
    events = await (form or ValidateRegistrationForm()).run(dispatcher, tracker, DOMAIN)
    return slots_of(events), dispatcher


def test_each_kind_is_asked_its_own_materials() -> None:
    assert registration_required_slots({"reg_kind": "enterprise"}) == [
        "reg_kind", "reg_name", "reg_credit_code", "reg_contact_name", "reg_mobile",
        "reg_licence", "reg_qualification", "reg_pledge",
    ]  # fmt: skip
    assert registration_required_slots({"reg_kind": "individual"}) == [
        "reg_kind", "reg_name", "reg_mobile", "reg_id_card",
    ]  # fmt: skip


async def test_the_kind_and_the_credit_code_are_checked() -> None:
    slots, _ = await validate({"reg_kind": "2"}, slots={"requested_slot": "reg_kind"})
    assert slots["reg_kind"] == "individual"
    slots, _ = await validate({"reg_kind": "我们是公司"}, slots={"requested_slot": "reg_kind"})
    assert slots["reg_kind"] == "enterprise"
    # GB 32100: a wrong check digit is refused with the reason; spaces and case do not matter
    slots, dispatcher = await validate(
        {"reg_credit_code": CODE[:-1] + "U"}, slots={"reg_kind": "enterprise"}
    )
    assert slots["reg_credit_code"] is None
    assert responses(dispatcher) == ["utter_registration_credit_code_invalid"]
    assert "校验位不正确" in dispatcher.messages[0]["problem"]
    slots, _ = await validate(
        {"reg_credit_code": "91320281 ma1w6xkq0t"}, slots={"reg_kind": "enterprise"}
    )
    assert slots["reg_credit_code"] == CODE
    slots, dispatcher = await validate({"reg_name": "下周"}, slots={"reg_kind": "enterprise"})
    assert slots["reg_name"] is None
    assert responses(dispatcher) == ["utter_registration_company_invalid"]


async def test_the_mobile_is_consent_and_creates_the_linked_customer(fake_desk: FakeDesk) -> None:
    fake_desk.on("POST", "/api/consents", {"agreed": True}, status=201)
    fake_desk.on("POST", "/api/customers", CUSTOMER, status=201)
    slots, dispatcher = await validate(
        {"reg_mobile": "手机 139 1234 5678"}, slots={**DETAILS, "requested_slot": "reg_mobile"}
    )
    assert slots["reg_mobile"] == "13912345678" and slots["privacy_consent"] is True
    assert slots["reg_customer_id"] == "42"
    assert fake_desk.bodies("POST", "/api/consents")[0]["agreed"] is True
    [body] = fake_desk.bodies("POST", "/api/customers")
    assert body == {
        "kind": "enterprise",
        "name": "江阴远澄线缆有限公司",
        "conversation_id": CONVERSATION,
        "contact_name": "张伟",
        "mobile": "13912345678",
        "credit_code": CODE,
    }
    assert responses(dispatcher) == ["utter_registration_saved_enterprise"]


async def test_a_taken_credit_code_is_asked_again(fake_desk: FakeDesk) -> None:
    fake_desk.on(
        "POST",
        "/api/customers",
        {"detail": {"code": "credit_code_taken", "message": "已注册"}},
        status=409,
    )
    slots, dispatcher = await validate(
        {"reg_mobile": "13912345678"},
        slots={**DETAILS, "privacy_consent": True, "requested_slot": "reg_mobile"},
    )
    assert slots["reg_credit_code"] is None and "reg_customer_id" not in slots
    assert responses(dispatcher) == ["utter_registration_credit_code_taken"]


async def test_an_announced_upload_is_labelled_as_the_material_asked(fake_desk: FakeDesk) -> None:
    fake_desk.on("PATCH", "/api/customers/42/documents/7", {"id": 7, "kind": "business_licence"})
    text = '/upload_document{"document_id": "7"}'
    slots, dispatcher = await validate(
        {"reg_licence": "7"},
        slots={**DETAILS, "reg_customer_id": "42", "requested_slot": "reg_licence"},
        text=text,
        intent="upload_document",
        entities=[entity("document_id", "7")],
    )
    assert slots["reg_licence"] == "7"
    [request] = fake_desk.requests
    assert json.loads(request.content) == {"kind": "business_licence"}
    assert request.url.params["conversation_id"] == CONVERSATION
    assert responses(dispatcher) == ["utter_registration_upload_received"]
    assert dispatcher.messages[0]["material"] == "营业执照"
    # typed words where a file is asked: how to upload
    slots, dispatcher = await validate(
        {"reg_pledge": "好的"}, slots={**DETAILS, "reg_customer_id": "42"}
    )
    assert slots["reg_pledge"] is None
    assert responses(dispatcher) == ["utter_registration_upload_how"]


async def test_no_qualification_certificate_needs_a_reason() -> None:
    slots, dispatcher = await validate({"reg_qualification": "没有"}, slots=DETAILS)
    assert slots["reg_qualification"] is None
    assert responses(dispatcher) == ["utter_registration_qualification_reason"]
    slots, _ = await validate(
        {"reg_qualification": "没有，我们是贸易公司不涉及许可"}, slots=DETAILS
    )
    assert slots["reg_qualification"] == "none"
    assert slots["reg_qualification_note"] == "没有，我们是贸易公司不涉及许可"
    assert qualification_reason("无") is None


async def test_the_review_is_submitted_with_its_due_date(fake_desk: FakeDesk) -> None:
    fake_desk.on(
        "POST", "/api/customers/42/verification", {"id": 5, "review_due": "2026-12-04"}, status=201
    )
    tracker = make_tracker(
        slots={
            **DETAILS,
            "reg_customer_id": "42",
            "reg_licence": "7",
            "reg_qualification": "none",
            "reg_qualification_note": "贸易公司，不涉及生产许可",
            "reg_pledge": "9",
        }
    )
    dispatcher = CollectingDispatcher()
    events = await ActionSubmitRegistration().run(dispatcher, tracker, DOMAIN)
    assert fake_desk.bodies("POST", "/api/customers/42/verification") == [
        {"qualification_note": "贸易公司，不涉及生产许可"}
    ]
    assert responses(dispatcher) == ["utter_registration_submitted_enterprise"]
    assert dispatcher.messages[0]["review_due"] == "2026-12-04"
    assert SlotSet("reg_customer_id", None) in events
    # the desk down: the materials stay, and the user can retry
    fake_desk.on("POST", "/api/customers/42/verification", {"detail": "busy"}, status=503)
    dispatcher = CollectingDispatcher()
    events = await ActionSubmitRegistration().run(dispatcher, tracker, DOMAIN)
    assert events == [SlotSet("reg_pending", True)]
    assert responses(dispatcher) == ["utter_registration_submit_failed"]


async def test_after_a_rejection_only_the_named_materials_are_asked(fake_desk: FakeDesk) -> None:
    fake_desk.on(
        "GET",
        f"/api/customers/by-conversation/{CONVERSATION}",
        {**CUSTOMER, "verification": "rejected"},
    )
    review = {
        "kind": "registration",
        "status": "rejected",
        "reason": "诚信承诺书未盖章",
        "missing_documents": ["integrity_pledge"],
    }
    fake_desk.on("GET", "/api/customers/42/reviews", {"items": [review]})
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(text="补充资料", intent="start_registration")
    slots = slots_of(await ActionStartRegistration().run(dispatcher, tracker, DOMAIN))
    assert slots["reg_ready"] is True and slots["reg_customer_id"] == "42"
    assert (slots["reg_licence"], slots["reg_qualification"]) == ("kept", "kept")
    assert slots["reg_pledge"] is None  # asked again
    assert responses(dispatcher) == ["utter_registration_resubmit"]
    assert dispatcher.messages[0]["reason"] == "诚信承诺书未盖章"


async def test_a_new_conversation_starts_and_an_approved_one_does_not(fake_desk: FakeDesk) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        text='/start_registration{"reg_kind":"individual"}',
        intent="start_registration",
        entities=[entity("reg_kind", "individual")],
    )
    slots = slots_of(await ActionStartRegistration().run(dispatcher, tracker, DOMAIN))
    assert slots["reg_ready"] is True and slots["reg_kind"] == "individual"
    assert responses(dispatcher) == ["utter_registration_start"]

    path = f"/api/customers/by-conversation/{CONVERSATION}"
    fake_desk.on("GET", path, {**CUSTOMER, "verification": "approved"})
    fake_desk.on("GET", "/api/customers/42/reviews", {"items": []})
    dispatcher = CollectingDispatcher()
    slots = slots_of(
        await ActionStartRegistration().run(dispatcher, make_tracker(text="我要注册"), DOMAIN)
    )
    assert slots["reg_ready"] is None
    assert responses(dispatcher) == ["utter_registration_already_approved"]


def test_the_day_a_name_changed() -> None:
    today = date(2026, 12, 1)
    assert changed_on_of("2026-11-20", today=today) == date(2026, 11, 20)
    assert changed_on_of("11月20号改的", today=today) == date(2026, 11, 20)
    assert changed_on_of("12月25日", today=today) == date(2025, 12, 25)  # not in the future
    assert changed_on_of("三天前", today=today) == date(2026, 11, 28)
    assert changed_on_of("昨天", today=today) == date(2026, 11, 30)
    assert changed_on_of("不记得了", today=today) is None


async def test_the_name_change_is_submitted_with_the_new_licence(fake_desk: FakeDesk) -> None:
    path = f"/api/customers/by-conversation/{CONVERSATION}"
    fake_desk.on("GET", path, {**CUSTOMER, "verification": "unverified"})
    dispatcher = CollectingDispatcher()
    slots = slots_of(await ActionStartNameChange().run(dispatcher, make_tracker(), DOMAIN))
    assert slots["reg_ready"] is None
    assert responses(dispatcher) == ["utter_registration_name_change_not_verified"]
    fake_desk.on("GET", path, {**CUSTOMER, "verification": "approved"})
    dispatcher = CollectingDispatcher()
    slots = slots_of(await ActionStartNameChange().run(dispatcher, make_tracker(), DOMAIN))
    assert slots["reg_ready"] is True and slots["reg_customer_id"] == "42"

    form = ValidateNameChangeForm()
    slots, _ = await validate({"reg_changed_on": "昨天"}, form)
    assert slots["reg_changed_on"] == (china_today() - timedelta(days=1)).isoformat()
    assert "reg_new_licence" not in slots  # within the month: the new licence is asked
    fake_desk.on("PATCH", "/api/customers/42/documents/11", {"id": 11})
    slots, _ = await validate(
        {"reg_new_licence": "11"},
        form,
        slots={"reg_customer_id": "42"},
        intent="upload_document",
        entities=[entity("document_id", "11")],
    )
    assert slots["reg_new_licence"] == "11"

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(201, json={"id": 8, "review_due": "2026-12-04"})

    fake_desk.on("POST", "/api/customers/42/name-changes", answer)
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        slots={
            "reg_customer_id": "42",
            "reg_new_name": "江阴远澄新材料有限公司",
            "reg_changed_on": "2026-11-30",
            "reg_new_licence": "11",
        }
    )
    await ActionSubmitNameChange().run(dispatcher, tracker, DOMAIN)
    assert fake_desk.bodies("POST", "/api/customers/42/name-changes") == [
        {"new_name": "江阴远澄新材料有限公司", "changed_on": "2026-11-30", "document_ids": [11]}
    ]
    assert responses(dispatcher) == ["utter_registration_name_change_submitted"]


async def test_a_late_name_change_is_refused_in_the_desks_words(fake_desk: FakeDesk) -> None:
    message = "企业名称于 2026年09月01日 变更，已超过1个月的提交期限"
    fake_desk.on(
        "POST",
        "/api/customers/42/name-changes",
        {"detail": {"code": "name_change_late", "message": message}},
        status=422,
    )
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        slots={
            "reg_customer_id": "42",
            "reg_new_name": "新名称有限公司",
            "reg_changed_on": "2026-09-01",
        }
    )
    await ActionSubmitNameChange().run(dispatcher, tracker, DOMAIN)
    assert responses(dispatcher) == ["utter_registration_name_change_refused"]
    assert dispatcher.messages[0]["problem"] == message


def test_the_one_month_limit_is_the_desks() -> None:
    day = date(2024, 1, 1)
    while day < date(2026, 12, 31):  # leap February, 31st days, the turn of the year
        assert name_change_deadline(day) == one_month_before(day), day
        day += timedelta(days=1)
    assert name_change_deadline(date(2026, 3, 31)) == date(2026, 2, 28)
    assert name_change_deadline(date(2026, 1, 15)) == date(2025, 12, 15)


async def test_a_change_older_than_one_month_is_not_asked_for_a_licence(
    fake_desk: FakeDesk,
) -> None:
    form = ValidateNameChangeForm()
    today = china_today()
    late = (name_change_deadline(today) - timedelta(days=1)).isoformat()
    slots, dispatcher = await validate({"reg_changed_on": late}, form)
    assert slots == {"reg_changed_on": late, "reg_new_licence": NO_DOCUMENT}
    assert dispatcher.messages == []  # the desk's refusal says it, after the form
    on_time = name_change_deadline(today).isoformat()
    slots, _ = await validate({"reg_changed_on": on_time}, form)
    assert slots == {"reg_changed_on": on_time}

    # typed "none" where the licence is asked is no way round the upload
    slots, dispatcher = await validate(
        {"reg_new_licence": NO_DOCUMENT}, form, slots={"reg_changed_on": on_time}
    )
    assert slots["reg_new_licence"] is None
    assert responses(dispatcher) == ["utter_registration_upload_how"]
    slots, _ = await validate(
        {"reg_new_licence": NO_DOCUMENT}, form, slots={"reg_changed_on": late}
    )
    assert slots["reg_new_licence"] == NO_DOCUMENT

    # submitted without documents: the desk refuses it and never takes the old licence for it
    fake_desk.on(
        "POST",
        "/api/customers/42/name-changes",
        {"detail": {"code": "name_change_late", "message": "已超过1个月的提交期限"}},
        status=422,
    )
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        slots={
            "reg_customer_id": "42",
            "reg_new_name": "新名称有限公司",
            "reg_changed_on": late,
            "reg_new_licence": NO_DOCUMENT,
        }
    )
    events = await ActionSubmitNameChange().run(dispatcher, tracker, DOMAIN)
    assert fake_desk.bodies("POST", "/api/customers/42/name-changes") == [
        {"new_name": "新名称有限公司", "changed_on": late, "document_ids": []}
    ]
    assert responses(dispatcher) == ["utter_registration_name_change_refused"]
    assert slots_of(events)["reg_new_licence"] is None


async def test_a_bare_day_answers_the_day_even_when_taken_for_a_question() -> None:
    form = ValidateNameChangeForm()
    dispatcher = CollectingDispatcher()
    asked = {"requested_slot": "reg_changed_on", "reg_new_name": "江阴远澄新材料有限公司"}
    tracker = make_tracker(
        slots=asked, text="昨天", intent="ask_faq", active_loop="name_change_form"
    )
    slots = slots_of(await form.run(dispatcher, tracker, DOMAIN))
    assert slots["reg_changed_on"] == (china_today() - timedelta(days=1)).isoformat()
    assert dispatcher.messages == []
    # a real question while the day is asked is left to the FAQ rule
    tracker = make_tracker(
        slots=asked, text="变更要带什么材料", intent="ask_faq", active_loop="name_change_form"
    )
    assert "reg_changed_on" not in slots_of(await form.run(CollectingDispatcher(), tracker, DOMAIN))
