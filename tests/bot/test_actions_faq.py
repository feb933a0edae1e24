"""FAQ answers with a confidence threshold and 「您是想问…」 choices; registration guidance."""

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import faq
from bot.actions.faq import ActionAnswerFaq, FaqHit, FaqPlan, plan_faq
from bot.actions.registration import ActionGuideRegistration, kind_of

from .conftest import FakeDesk
from .trackers import DOMAIN, make_tracker, responses


def hit(n: int, score: float) -> FaqHit:
    return FaqHit(id=f"faq-{n}", question=f"问题{n}？", answer=f"答案{n}。", score=score)


@pytest.mark.parametrize(
    ("scores", "in_form", "kind", "count"),
    [
        ([0.97, 0.95, 0.90], False, "answer", 1),  # sure
        ([0.945, 0.90, 0.88], False, "answer", 1),  # clearly ahead
        ([0.946, 0.929, 0.919], False, "choose", 3),  # close ones: ask
        ([0.909, 0.897, 0.80], False, "choose", 2),
        ([0.909, 0.897], True, "unknown", 0),  # no choices inside a form
        ([0.862, 0.85], False, "unknown", 0),  # chit-chat level
        ([], False, "unknown", 0),
    ],
)
def test_plan(scores: list[float], in_form: bool, kind: str, count: int) -> None:
    plan = plan_faq([hit(n, s) for n, s in enumerate(scores, 1)], in_form=in_form)
    assert (plan.kind, len(plan.hits)) == (kind, count)


def test_choices_are_close_to_the_best() -> None:
    plan = plan_faq([hit(1, 0.92), hit(2, 0.91), hit(3, 0.881)])
    assert plan == FaqPlan("choose", [hit(1, 0.92), hit(2, 0.91), hit(3, 0.881)])
    plan = plan_faq([hit(1, 0.95), hit(2, 0.94), hit(3, 0.885)])
    assert [h.id for h in plan.hits] == ["faq-1", "faq-2"]


@pytest.fixture
def searched(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    asked: list[str] = []

    async def search(text: str) -> list[FaqHit]:
        asked.append(text)
        return {
            "注册要几天审核": [hit(1, 0.982), hit(2, 0.947)],
            "周末能办理吗": [hit(3, 0.946), hit(4, 0.929), hit(5, 0.919)],
        }.get(text, [])

    monkeypatch.setattr(faq, "search_faq", search)
    monkeypatch.setattr(faq, "faq_by_id", lambda faq_id: hit(int(faq_id[-1]), 1.0))
    return asked


async def test_a_clear_question_is_answered(searched: list[str]) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionAnswerFaq().run(
        dispatcher, make_tracker(text="注册要几天审核", intent="ask_faq"), DOMAIN
    )
    assert events == [SlotSet("faq_choices", None), SlotSet("pending_choice", None)]
    assert dispatcher.messages[0]["response"] == "utter_faq_answer"
    assert (dispatcher.messages[0]["faq_question"], dispatcher.messages[0]["faq_answer"]) == (
        "问题1？",
        "答案1。",
    )


async def test_an_unclear_question_offers_choices_then_one_is_picked(searched: list[str]) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionAnswerFaq().run(
        dispatcher, make_tracker(text="周末能办理吗", intent="ask_faq"), DOMAIN
    )
    assert events == [
        SlotSet("faq_choices", ["faq-3", "faq-4", "faq-5"]),
        SlotSet("pending_choice", "faq"),
    ]
    assert responses(dispatcher) == ["utter_faq_choices"]
    assert dispatcher.messages[0]["faq_options"].splitlines() == [
        "1. 问题3？",
        "2. 问题4？",
        "3. 问题5？",
        "4. 都不是，换个说法或转人工",
    ]
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == ["1", "2", "3", "4"]

    picked = CollectingDispatcher()
    slots = {"faq_choices": ["faq-3", "faq-4", "faq-5"], "pending_choice": "faq"}
    events = await ActionAnswerFaq().run(picked, make_tracker(text="2", slots=slots), DOMAIN)
    assert events == [SlotSet("faq_choices", None), SlotSet("pending_choice", None)]
    assert picked.messages[0]["faq_question"] == "问题4？"
    assert searched == ["周末能办理吗"]  # the number was not searched

    none = CollectingDispatcher()
    await ActionAnswerFaq().run(
        none, make_tracker(text="都不是", intent="deny", slots=slots), DOMAIN
    )
    assert responses(none) == ["utter_faq_none_of_these"]


async def test_unknown_is_said_honestly(searched: list[str], fake_desk: FakeDesk) -> None:
    fake_desk.on("POST", "/api/reports/unanswered", {"id": 1}, status=201)
    dispatcher = CollectingDispatcher()
    events = await ActionAnswerFaq().run(
        dispatcher, make_tracker(text="怎么养猫", intent="ask_faq"), DOMAIN
    )
    assert responses(dispatcher) == ["utter_faq_unknown"]
    assert events == [SlotSet("faq_choices", None), SlotSet("pending_choice", None)]
    [reported] = fake_desk.bodies("POST", "/api/reports/unanswered")
    assert (reported["kind"], reported["text"], reported["message_id"]) == (
        "faq_miss",
        "怎么养猫",
        "m-1",
    )


async def test_a_desk_that_cannot_take_the_report_changes_nothing(
    searched: list[str], fake_desk: FakeDesk
) -> None:
    fake_desk.on("POST", "/api/reports/unanswered", {"detail": "down"}, status=503)
    dispatcher = CollectingDispatcher()
    await ActionAnswerFaq().run(dispatcher, make_tracker(text="怎么养猫", intent="ask_faq"), DOMAIN)
    assert responses(dispatcher) == ["utter_faq_unknown"]


async def test_a_button_payload_is_not_reported(fake_desk: FakeDesk) -> None:
    from bot.actions.unanswered import report_unanswered

    assert not await report_unanswered(make_tracker(text="/ask_faq"), kind="faq_miss")
    assert fake_desk.requests == []


async def test_inside_a_form_no_choices_are_offered(searched: list[str]) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionAnswerFaq().run(
        dispatcher,
        make_tracker(text="周末能办理吗", intent="ask_faq", active_loop="need_form"),
        DOMAIN,
    )
    assert responses(dispatcher) == ["utter_faq_unknown"]
    assert events == [SlotSet("faq_choices", None), SlotSet("pending_choice", None)]


async def test_a_failing_search_is_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(text: str) -> list[FaqHit]:
        raise RuntimeError("index missing")

    monkeypatch.setattr(faq, "_search_sync", broken)
    assert await faq.search_faq("注册要几天") == []


def test_faq_entries_come_from_the_knowledge_base() -> None:
    entry = faq.faq_by_id("faq-register-review-time")
    assert entry is not None and "3 个工作日" in entry.answer
    assert faq.faq_by_id("no-such-faq") is None


# --- registration guidance (§7.1) ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "choosing", "kind"),
    [
        ("企业用户注册要准备哪些资料", False, "enterprise"),
        ("个人能注册吗", False, "personal"),
        ("怎么注册", False, None),
        ("1", True, "enterprise"),
        ("2", True, "personal"),
        ("1", False, None),
    ],
)
def test_kind_of_user(text: str, choosing: bool, kind: str | None) -> None:
    assert kind_of(text, choosing=choosing) == kind


async def test_registration_asks_the_kind_then_gives_the_materials() -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionGuideRegistration().run(
        dispatcher, make_tracker(text="怎么注册", intent="ask_registration"), DOMAIN
    )
    assert events == [SlotSet("pending_choice", "registration")]
    assert responses(dispatcher) == ["utter_registration_kinds"]
    assert dispatcher.messages[0]["registration_options"] == "1. 企业用户\n2. 普通用户（个人）"

    chosen = CollectingDispatcher()
    events = await ActionGuideRegistration().run(
        chosen, make_tracker(text="1", slots={"pending_choice": "registration"}), DOMAIN
    )
    assert events == [SlotSet("pending_choice", None)]
    assert responses(chosen) == ["utter_registration_enterprise"]


async def test_registration_named_kind_is_answered_directly() -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionGuideRegistration().run(
        dispatcher, make_tracker(text="个人用户怎么申请", intent="ask_registration"), DOMAIN
    )
    assert events == [SlotSet("pending_choice", None)]
    assert responses(dispatcher) == ["utter_registration_personal"]


def test_registration_copy_says_the_standard() -> None:
    kinds = DOMAIN["responses"]["utter_registration_kinds"][0]["text"]
    enterprise = DOMAIN["responses"]["utter_registration_enterprise"][0]["text"]
    assert "企业用户" in kinds and "普通用户" in kinds and "3个工作日" in kinds
    assert all(word in enterprise for word in ("营业执照", "资质证书", "诚信承诺书", "3个工作日"))
