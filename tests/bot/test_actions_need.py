"""The need form, its questions and summary, and opening the demand, driven with rasa_sdk trackers.

The desk is replaced by a fake (tests/bot/conftest.py); opening a demand for real is covered by the
end-to-end tests against the real desk.
"""

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import need_summary
from bot.actions.consent import NOTICE_VERSION
from bot.actions.demand import (
    ActionCompleteNeed,
    ActionOpenDemand,
    channel_of,
    compose_need_text,
    draft_from_slots,
    idempotency_key,
)
from bot.actions.need import (
    DETAIL_SLOTS,
    NEED_SLOTS,
    ActionResetNeed,
    ActionStartNeed,
    need_required_slots,
)
from bot.actions.need_form import ValidateNeedForm
from bot.actions.need_summary import (
    ActionAskContactName,
    ActionAskNeedDecision,
    Decision,
    decision_for,
)
from bot.actions.need_summary import (
    need_summary as summary_of,
)
from bot.actions.recommend import Reply as RecommendReply
from bot.actions.recommend import need_query, plan_reply
from retrieval.remote_encoder import RemoteEncoder
from retrieval.search import Searcher
from retrieval.settings import RetrievalSettings
from tests.support import free_port

from .conftest import FakeDesk
from .trackers import CONVERSATION, DOMAIN, entity, make_tracker, responses

REPO = Path(__file__).resolve().parents[2]

WHAT_AND_WHERE = {
    "need_text": "我们有一批电线电缆需要做检测",
    "need_product": "电线电缆",
    "need_place": "江阴市周庄镇",
}
CONTACT = {"contact_name": "张伟", "contact_mobile": "13912345678", "privacy_consent": True}
RECOMMENDED = {
    "need_service_ids": ["6.4.2", "6.4.3"],
    "need_institution_ids": ["inst-a", "inst-b", "inst-c"],
    "need_institution_titles": ["远澄线缆检测中心", "东亭线缆质量检验", "华士金属材料检测"],
    "need_domain": "检验检测",
}


async def validate(candidates: dict[str, Any], **kwargs: Any) -> tuple[list, CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(candidates=candidates, active_loop="need_form", **kwargs)
    events = await ValidateNeedForm().run(dispatcher, tracker, DOMAIN)
    return events, dispatcher


@pytest.fixture
def consents(fake_desk: FakeDesk) -> FakeDesk:
    fake_desk.on("POST", "/api/consents", {"id": 1}, status=201)
    return fake_desk


# --- which slots are asked ------------------------------------------------------------------------


def test_required_slots_follow_the_conversation() -> None:
    assert need_required_slots({}) == [
        "need_product",
        "need_place",
        "contact_name",
        "contact_mobile",
        "need_decision",
    ]
    wanted = need_required_slots({"need_details_wanted": True})
    assert wanted[2:6] == ["need_quantity", "need_date", "need_service_mode", "need_company"]
    assert "need_credit_code" not in wanted  # no company: no code to ask for
    assert "need_credit_code" in need_required_slots(
        {"need_details_wanted": True, "need_company": "无锡华澄电缆有限公司"}
    )
    assert "need_quantity" in need_required_slots({"need_quantity": "50台"})  # volunteered
    # a contact given before the notice: the notice is asked for explicitly
    assert need_required_slots({"contact_mobile": "13912345678"})[2] == "privacy_consent"
    # declined: nothing personal, no submit
    assert need_required_slots({"privacy_consent": False}) == ["need_product", "need_place"]


# --- validate_need_form ---------------------------------------------------------------------------


async def test_a_good_place_then_the_contact_question() -> None:
    events, dispatcher = await validate(
        {"need_place": "江阴市周庄镇"},
        slots={"need_product": "电线电缆", "requested_slot": "need_place"},
        text="江阴市周庄镇",
    )
    assert events == [
        SlotSet("need_place", "江阴市周庄镇"),
        SlotSet("requested_slot", "contact_name"),
    ]
    assert dispatcher.messages == []


async def test_a_name_after_the_notice_is_consent_and_is_recorded(consents: FakeDesk) -> None:
    events, dispatcher = await validate(
        {"contact_name": "我叫张伟"},
        slots=WHAT_AND_WHERE | {"requested_slot": "contact_name"},
        text="我叫张伟",
    )
    assert events == [
        SlotSet("contact_name", "张伟"),
        SlotSet("privacy_consent", True),
        SlotSet("requested_slot", "contact_mobile"),
    ]
    assert dispatcher.messages == []
    assert consents.bodies("POST", "/api/consents") == [
        {"conversation_id": CONVERSATION, "notice_version": NOTICE_VERSION, "agreed": True}
    ]


async def test_agreeing_to_the_notice_asks_the_name_again(consents: FakeDesk) -> None:
    events, _ = await validate(
        {"contact_name": "/affirm"},
        slots=WHAT_AND_WHERE | {"requested_slot": "contact_name"},
        text="/affirm",
        intent="affirm",
    )
    assert events == [
        SlotSet("contact_name", None),
        SlotSet("privacy_consent", True),
        SlotSet("requested_slot", "contact_name"),
    ]
    assert consents.bodies("POST", "/api/consents")[0]["agreed"] is True


async def test_declining_the_notice_ends_the_form_without_contact(consents: FakeDesk) -> None:
    events, dispatcher = await validate(
        {"contact_name": "不同意"},
        slots=WHAT_AND_WHERE | {"requested_slot": "contact_name"},
        text="不同意",
        intent="deny",
    )
    assert events == [
        SlotSet("contact_name", None),
        SlotSet("contact_mobile", None),
        SlotSet("privacy_consent", False),
        SlotSet("requested_slot", None),
    ]
    assert dispatcher.messages == []
    assert consents.bodies("POST", "/api/consents")[0]["agreed"] is False


async def test_consent_is_recorded_once(consents: FakeDesk) -> None:
    await validate(
        {"contact_mobile": "13912345678"},
        slots=WHAT_AND_WHERE | CONTACT | {"requested_slot": "contact_mobile"},
        text="13912345678",
    )
    assert consents.bodies("POST", "/api/consents") == []


async def test_a_desk_without_the_consent_api_does_not_stop_the_form(
    fake_desk: FakeDesk, caplog: pytest.LogCaptureFixture
) -> None:
    events, _ = await validate(
        {"contact_name": "张伟"},
        slots=WHAT_AND_WHERE | {"requested_slot": "contact_name"},
        text="张伟",
    )
    assert SlotSet("contact_name", "张伟") in events  # 404 from the fake desk
    assert "consent not recorded" in caplog.text and "张伟" not in caplog.text


async def test_form_normalises_a_mobile() -> None:
    events, dispatcher = await validate(
        {"contact_mobile": "+86 139-1234-5678"},
        slots=WHAT_AND_WHERE
        | CONTACT
        | {"contact_mobile": None, "requested_slot": "contact_mobile"},
        text="+86 139-1234-5678",
        intent="nlu_fallback",
    )
    assert events == [
        SlotSet("contact_mobile", "13912345678"),
        SlotSet("requested_slot", "need_decision"),
    ]
    assert dispatcher.messages == []


async def test_form_rejects_a_bad_mobile_and_explains() -> None:
    events, dispatcher = await validate(
        {"contact_mobile": "1391234"},
        slots=WHAT_AND_WHERE
        | CONTACT
        | {"contact_mobile": None, "requested_slot": "contact_mobile"},
        text="1391234",
    )
    assert events == [SlotSet("contact_mobile", None), SlotSet("requested_slot", "contact_mobile")]
    assert responses(dispatcher) == ["utter_need_mobile_invalid"]


async def test_form_rejects_a_number_as_name() -> None:
    events, dispatcher = await validate(
        {"contact_name": "12345"},
        slots=WHAT_AND_WHERE | {"privacy_consent": True, "requested_slot": "contact_name"},
        text="12345",
    )
    assert events == [SlotSet("contact_name", None), SlotSet("requested_slot", "contact_name")]
    assert responses(dispatcher) == ["utter_need_name_invalid"]


async def test_form_rejects_an_overlong_place() -> None:
    events, dispatcher = await validate(
        {"need_place": "江" * 60},
        slots={"need_product": "电缆", "requested_slot": "need_place"},
        text="江" * 60,
    )
    assert events == [SlotSet("need_place", None), SlotSet("requested_slot", "need_place")]
    assert responses(dispatcher) == ["utter_need_place_invalid"]


async def test_form_joins_several_named_products() -> None:
    text = "阀门和水泵"
    events, _ = await validate(
        {"need_product": "水泵"},
        slots={"requested_slot": "need_product"},
        text=text,
        entities=[entity("product", "阀门", text), entity("product", "水泵", text)],
    )
    assert events[0] == SlotSet("need_product", "阀门、水泵")


async def test_form_does_not_complain_about_a_cleared_slot() -> None:
    events, dispatcher = await validate(
        {"need_product": None}, text="我们想做个质量管理体系认证", intent="request_service"
    )
    assert events == [SlotSet("need_product", None), SlotSet("requested_slot", "need_product")]
    assert dispatcher.messages == []


async def test_a_correction_during_another_question_is_silent_when_it_does_not_fit() -> None:
    text = "地址说错了，是无锡市新吴区"
    events, dispatcher = await validate(
        {"need_place": "无锡市新吴区", "contact_mobile": text},
        slots=WHAT_AND_WHERE
        | CONTACT
        | {"contact_mobile": None, "requested_slot": "contact_mobile"},
        text=text,
        intent="inform",
    )
    assert events == [
        SlotSet("need_place", "无锡市新吴区"),
        SlotSet("contact_mobile", None),
        SlotSet("requested_slot", "contact_mobile"),
    ]
    assert dispatcher.messages == []  # the mobile is simply asked again


@pytest.mark.parametrize(
    ("slot", "answer", "expected"),
    [
        ("need_quantity", "大概50台", "大概50台"),
        ("need_quantity", "不清楚", ""),
        ("need_date", "跳过", ""),
        ("need_service_mode", "2", "上门"),
        ("need_service_mode", "我们自己送样过去", "送样"),
        ("need_company", "无锡华澄电缆有限公司", "无锡华澄电缆有限公司"),
        ("need_credit_code", "91320281AY4CL12THQ", "91320281AY4CL12THQ"),
        ("need_credit_code", "没有", ""),
    ],
)
async def test_details_are_cleaned_or_skipped(slot: str, answer: str, expected: str) -> None:
    events, dispatcher = await validate(
        {slot: answer},
        slots=WHAT_AND_WHERE
        | CONTACT
        | {"need_details_wanted": True, "requested_slot": slot, "need_company": "某公司"},
        text=answer,
    )
    assert events[0] == SlotSet(slot, expected)
    assert dispatcher.messages == []


async def test_a_wrong_credit_code_is_explained_and_asked_again() -> None:
    events, dispatcher = await validate(
        {"need_credit_code": "91320281AY4CL12THX"},
        slots=WHAT_AND_WHERE
        | CONTACT
        | {
            "need_details_wanted": True,
            "need_quantity": "",
            "need_date": "",
            "need_service_mode": "",
            "need_company": "某公司",
            "requested_slot": "need_credit_code",
        },
        text="91320281AY4CL12THX",
    )
    assert events == [
        SlotSet("need_credit_code", None),
        SlotSet("requested_slot", "need_credit_code"),
    ]
    assert responses(dispatcher) == ["utter_need_credit_code_invalid"]


async def test_company_and_code_in_one_answer() -> None:
    text = "无锡华澄电缆有限公司 91320281AY4CL12THQ"
    events, _ = await validate(
        {"need_company": text},
        slots=WHAT_AND_WHERE
        | CONTACT
        | {
            "need_details_wanted": True,
            "need_quantity": "",
            "need_date": "",
            "need_service_mode": "",
            "requested_slot": "need_company",
        },
        text=text,
    )
    assert events[:2] == [
        SlotSet("need_company", "无锡华澄电缆有限公司"),
        SlotSet("need_credit_code", "91320281AY4CL12THQ"),
    ]


# --- the decision on the summary ------------------------------------------------------------------

TITLES, IDS = RECOMMENDED["need_institution_titles"], RECOMMENDED["need_institution_ids"]


@pytest.mark.parametrize(
    ("text", "intent", "expected"),
    [
        ("2", "inform", Decision("submit", "inst-b")),
        ("第一个", "inform", Decision("submit", "inst-a")),
        ("/affirm", "affirm", Decision("submit")),
        ("好的", "affirm", Decision("submit")),
        ("4", "inform", Decision("submit")),
        ("5", "inform", Decision("details")),
        ("我想补充一下数量", "inform", Decision("details")),
        ("6", "inform", Decision("cancel")),
        ("暂不提交", "deny", Decision("cancel")),
        ("东亭线缆质量检验", "inform", Decision("submit", "inst-b")),
        ("今天天气不错", "out_of_scope", None),
        ("7", "inform", None),
    ],
)
def test_decisions(text: str, intent: str, expected: Decision | None) -> None:
    assert decision_for(text, intent, titles=TITLES, ids=IDS) == expected


def test_without_institutions_the_numbers_shift() -> None:
    assert decision_for("1", "inform", titles=[], ids=[]) == Decision("submit")
    assert decision_for("3", "inform", titles=[], ids=[]) == Decision("cancel")


async def test_choosing_an_institution_completes_the_form() -> None:
    events, _ = await validate(
        {"need_decision": "1"},
        slots=WHAT_AND_WHERE | CONTACT | RECOMMENDED | {"requested_slot": "need_decision"},
        text="1",
    )
    assert events == [
        SlotSet("need_decision", "submit"),
        SlotSet("need_chosen_institution", "inst-a"),
        SlotSet("requested_slot", None),
    ]


async def test_asking_for_details_clears_and_asks_them() -> None:
    events, _ = await validate(
        {"need_decision": "5"},
        slots=WHAT_AND_WHERE | CONTACT | RECOMMENDED | {"requested_slot": "need_decision"},
        text="5",
    )
    assert events == [
        SlotSet("need_decision", None),
        SlotSet("need_details_wanted", True),
        *[SlotSet(name, None) for name in DETAIL_SLOTS],
        SlotSet("requested_slot", "need_quantity"),
    ]


async def test_an_unclear_decision_is_asked_again_with_a_hint() -> None:
    events, dispatcher = await validate(
        {"need_decision": "这个嘛我看看"},
        slots=WHAT_AND_WHERE | CONTACT | RECOMMENDED | {"requested_slot": "need_decision"},
        text="这个嘛我看看",
    )
    assert events == [SlotSet("need_decision", None), SlotSet("requested_slot", "need_decision")]
    assert responses(dispatcher) == ["utter_need_decision_invalid"]


async def test_a_mobile_correction_on_the_summary() -> None:
    text = "电话说错了，是13812345678"
    events, dispatcher = await validate(
        {"contact_mobile": "13812345678"},
        slots=WHAT_AND_WHERE | CONTACT | RECOMMENDED | {"requested_slot": "need_decision"},
        text=text,
        intent="correct_info",
        entities=[entity("mobile", "13812345678", text)],
    )
    assert events == [
        SlotSet("contact_mobile", "13812345678"),
        SlotSet("requested_slot", "need_decision"),
    ]
    assert dispatcher.messages == []


async def test_a_product_correction_on_the_summary_recommends_again() -> None:
    events, _ = await validate(
        {"need_product": "压力表"},
        slots=WHAT_AND_WHERE
        | CONTACT
        | RECOMMENDED
        | {"requested_slot": "need_decision", "need_chosen_institution": "inst-a"},
        text="产品说错了，是压力表",
        intent="correct_info",
    )
    assert events == [
        SlotSet("need_product", "压力表"),
        *[
            SlotSet(n, None)
            for n in (
                "need_service_ids",
                "need_institution_ids",
                "need_institution_titles",
                "need_domain",
                "need_chosen_institution",
            )
        ],
        SlotSet("requested_slot", "need_decision"),
    ]


# --- the questions --------------------------------------------------------------------------------


async def test_the_first_personal_question_carries_the_notice() -> None:
    dispatcher = CollectingDispatcher()
    await ActionAskContactName().run(dispatcher, make_tracker(), DOMAIN)
    assert responses(dispatcher) == ["utter_ask_contact_name_with_notice"]
    dispatcher = CollectingDispatcher()
    await ActionAskContactName().run(
        dispatcher, make_tracker(slots={"privacy_consent": True}), DOMAIN
    )
    assert responses(dispatcher) == ["utter_ask_contact_name"]


class Rec:
    def __init__(self, id: str, kind: str, title: str, reason: str) -> None:
        self.id, self.kind, self.title, self.reason, self.score = id, kind, title, reason, 0.9


async def test_the_summary_recommends_first_and_offers_numbered_choices(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def found(text: str, region: str | None) -> list[Rec]:
        assert (text, region) == ("我们有一批电线电缆需要做检测", "江阴市周庄镇")
        return [
            Rec("6.4.2", "service", "检验检测机构匹配", "协助匹配技术机构"),
            Rec("inst-a", "institution", "远澄线缆检测中心", "可承接电线电缆"),
        ]

    monkeypatch.setattr(need_summary, "find_recommendations", found)
    monkeypatch.setattr("bot.actions.recommend.domain_of", lambda service_id: "检验检测")
    dispatcher = CollectingDispatcher()
    events = await ActionAskNeedDecision().run(
        dispatcher, make_tracker(slots=WHAT_AND_WHERE | CONTACT), DOMAIN
    )
    assert events == [
        SlotSet("need_service_ids", ["6.4.2"]),
        SlotSet("need_institution_ids", ["inst-a"]),
        SlotSet("need_institution_titles", ["远澄线缆检测中心"]),
        SlotSet("need_domain", "检验检测"),
    ]
    assert responses(dispatcher) == ["utter_need_recommendation", "utter_ask_need_decision"]
    summary = dispatcher.messages[1]
    assert "· 服务类别：检验检测" in summary["need_summary"]
    assert "· 联系人：张伟，手机 13912345678" in summary["need_summary"]
    assert summary["need_options"].splitlines() == [
        "1. 提交，选择“远澄线缆检测中心”",
        "2. 提交，由工作人员为我匹配机构",
        "3. 补充数量、时间、服务方式、企业等信息",
        "4. 暂不提交",
    ]
    assert [b["payload"] for b in summary["buttons"]] == ["1", "/affirm", "3", "/deny"]


async def test_the_summary_again_does_not_search_again(monkeypatch: pytest.MonkeyPatch) -> None:
    async def never(text: str, region: str | None) -> list[Rec]:
        raise AssertionError("searched again")

    monkeypatch.setattr(need_summary, "find_recommendations", never)
    dispatcher = CollectingDispatcher()
    events = await ActionAskNeedDecision().run(
        dispatcher, make_tracker(slots=WHAT_AND_WHERE | CONTACT | RECOMMENDED), DOMAIN
    )
    assert events == [] and responses(dispatcher) == ["utter_ask_need_decision"]


def test_summary_marks_what_was_not_said() -> None:
    text = summary_of(WHAT_AND_WHERE | {"need_quantity": "", "need_credit_code": "9132X"})
    assert "· 数量：未说明" in text and "· 企业：未说明（统一社会信用代码 9132X）" in text


# --- start and reset ------------------------------------------------------------------------------


async def test_start_need_keeps_a_product_named_in_the_message() -> None:
    text = "我们有一批电线电缆需要做检测"
    tracker = make_tracker(
        text=text,
        intent="request_service",
        entities=[entity("product", "电线电缆", text)],
        slots={"need_product": "电线电缆", "need_pending": True, "privacy_consent": False},
    )
    events = await ActionStartNeed().run(CollectingDispatcher(), tracker, DOMAIN)
    cleared = {e["name"] for e in events if e["value"] is None}
    assert "need_product" not in cleared
    assert {
        "need_service_ids",
        "need_pending",
        "need_decision",
        "need_quantity",
        "privacy_consent",
        "pending_choice",
    } <= cleared
    assert {"need_place", "contact_name", "need_company"}.isdisjoint(cleared)  # same enterprise


async def test_start_need_forgets_the_previous_product() -> None:
    tracker = make_tracker(
        text="我们想做个认证",
        intent="request_service",
        slots={"need_product": "压力表", "privacy_consent": True},
    )
    events = await ActionStartNeed().run(CollectingDispatcher(), tracker, DOMAIN)
    assert SlotSet("need_product", None) in events
    assert all(e["name"] != "privacy_consent" for e in events)  # agreed stays agreed


async def test_reset_clears_every_need_slot() -> None:
    events = await ActionResetNeed().run(CollectingDispatcher(), make_tracker(), DOMAIN)
    assert events == [SlotSet(name, None) for name in NEED_SLOTS]
    assert all(name in DOMAIN["slots"] for name in NEED_SLOTS)


# --- recommendations (the reply; the search itself is the retrieval package's) --------------------


def test_need_query_adds_an_unnamed_product() -> None:
    assert need_query("我们想做检测", "压力表") == "我们想做检测 压力表"
    assert need_query("电线电缆要检测", "电线电缆") == "电线电缆要检测"
    assert need_query(None, "压力表") == "压力表"


def test_reply_lists_services_and_institutions_with_reasons() -> None:
    reply = plan_reply(
        [
            Rec("6.4.2", "service", "检验检测机构匹配", "协助匹配技术机构"),
            Rec("inst-01", "institution", "某检测中心", "可承接电线电缆；具备CMA资质"),
        ],
        domain_lookup=lambda service_id: "检验检测",
    )
    assert reply == RecommendReply(
        "utter_need_recommendation",
        {
            "services": "1. 检验检测机构匹配：协助匹配技术机构",
            "institutions": "1. 某检测中心：可承接电线电缆；具备CMA资质",
        },
        ["6.4.2"],
        ["inst-01"],
        ["某检测中心"],
        "检验检测",
    )


def test_reply_without_a_match_says_so() -> None:
    assert plan_reply([]) == RecommendReply("utter_need_no_match", {}, [], [])


async def test_a_failed_search_is_no_match(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.actions import recommend

    def broken(text: str, region: str | None) -> list[Any]:
        raise RuntimeError("index not built")

    monkeypatch.setattr(recommend, "_recommend_sync", broken)
    dispatcher = CollectingDispatcher()
    events = await ActionAskNeedDecision().run(
        dispatcher, make_tracker(slots=WHAT_AND_WHERE | CONTACT), DOMAIN
    )
    assert events == [
        SlotSet("need_service_ids", []),
        SlotSet("need_institution_ids", []),
        SlotSet("need_institution_titles", []),
        SlotSet("need_domain", None),
    ]
    assert responses(dispatcher) == ["utter_need_no_match", "utter_ask_need_decision"]


async def test_while_the_app_restarts_the_recommendation_says_it_is_unavailable(
    monkeypatch: pytest.MonkeyPatch, retrieval_settings: RetrievalSettings
) -> None:
    """The action server's search asks the app's model for the query vector; with nothing
    listening (the app between two lives) the need goes on with a clear message, quickly, and
    the next summary searches again."""
    from retrieval import recommend as retrieval_recommend

    down = RemoteEncoder(f"http://127.0.0.1:{free_port()}/api/embeddings", token="t")
    searcher = Searcher.open(retrieval_settings, encoder=down)
    monkeypatch.setattr(retrieval_recommend, "get_searcher", lambda settings: searcher)
    dispatcher = CollectingDispatcher()
    started = time.monotonic()
    events = await ActionAskNeedDecision().run(
        dispatcher, make_tracker(slots=WHAT_AND_WHERE | CONTACT), DOMAIN
    )
    assert time.monotonic() - started < 2
    assert events == [
        SlotSet("need_service_ids", None),  # not recommended yet: asked again, searched again
        SlotSet("need_institution_ids", []),
        SlotSet("need_institution_titles", []),
        SlotSet("need_domain", None),
    ]
    assert responses(dispatcher) == ["utter_need_search_unavailable", "utter_ask_need_decision"]
    # no institution to choose: the first choice is submitting for staff to match
    assert [b["payload"] for b in dispatcher.messages[1]["buttons"]] == ["/affirm", "2", "/deny"]


def test_the_unavailable_reply_is_in_the_domain() -> None:
    assert plan_reply(None).response == "utter_need_search_unavailable"
    need_domain = yaml.safe_load((REPO / "bot" / "domain" / "need.yml").read_text("utf-8"))
    (text,) = [r["text"] for r in need_domain["responses"]["utter_need_search_unavailable"]]
    assert "暂时不可用" in text and "提交需求" in text


# --- completing the need: open, cancel, recommendations only --------------------------------------

NEED = WHAT_AND_WHERE | CONTACT | RECOMMENDED
OPENED = {"number": "XQ20260601-0001", "respond_due": "2026-06-02", "recommend_due": "2026-06-04"}


async def test_complete_opens_the_demand_with_details_and_choice(fake_desk: FakeDesk) -> None:
    fake_desk.on("POST", "/api/demands", OPENED, status=201)
    slots = NEED | {
        "need_decision": "submit",
        "need_chosen_institution": "inst-b",
        "need_quantity": "200米",
        "need_service_mode": "上门",
        "need_date": "",
    }
    dispatcher = CollectingDispatcher()
    events = await ActionCompleteNeed().run(
        dispatcher, make_tracker(slots=slots, text="2", message_id="msg-9"), DOMAIN
    )
    assert events == [
        *[SlotSet(n, None) for n in NEED_SLOTS],
        SlotSet("demand_last_number", "XQ20260601-0001"),
    ]
    assert responses(dispatcher) == ["utter_need_submitted", "utter_need_choice_noted"]
    assert dispatcher.messages[1]["institution"] == "东亭线缆质量检验"
    [body] = fake_desk.bodies("POST", "/api/demands")
    assert body["institution_ids"] == ["inst-b", "inst-a", "inst-c"]  # the choice first
    assert body["need_text"] == "我们有一批电线电缆需要做检测"
    assert (body["quantity"], body["service_mode"], body["wanted_date"]) == ("200米", "上门", None)
    assert body["chosen_institution_id"] == "inst-b"
    assert fake_desk.requests[0].headers["Idempotency-Key"] == idempotency_key(
        CONVERSATION, "msg-9"
    )


async def test_complete_without_a_yes_opens_nothing(fake_desk: FakeDesk) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionCompleteNeed().run(
        dispatcher, make_tracker(slots=NEED | {"need_decision": "cancel"}), DOMAIN
    )
    assert events == [SlotSet(n, None) for n in NEED_SLOTS]
    assert responses(dispatcher) == ["utter_need_cancelled"] and fake_desk.requests == []


async def test_declined_notice_gets_recommendations_only(
    fake_desk: FakeDesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def found(text: str, region: str | None) -> list[Rec]:
        return [Rec("6.4.2", "service", "检验检测机构匹配", "协助匹配技术机构")]

    monkeypatch.setattr(need_summary, "find_recommendations", found)
    monkeypatch.setattr("bot.actions.recommend.domain_of", lambda service_id: None)
    dispatcher = CollectingDispatcher()
    events = await ActionCompleteNeed().run(
        dispatcher, make_tracker(slots=WHAT_AND_WHERE | {"privacy_consent": False}), DOMAIN
    )
    assert responses(dispatcher) == [
        "utter_need_recommendation_services_only",
        "utter_need_browse_only",
    ]
    assert events[0] == SlotSet("need_service_ids", ["6.4.2"])
    assert events[-len(NEED_SLOTS) :] == [SlotSet(n, None) for n in NEED_SLOTS]
    assert fake_desk.requests == []


def failing_with(status: int, code: str = "internal") -> Callable[[httpx.Request], httpx.Response]:
    body = {"detail": {"code": code, "message": "服务器内部错误"}}
    return lambda request: httpx.Response(status, json=body)


def timing_out(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("desk too slow", request=request)


def refusing(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


@pytest.mark.parametrize(
    ("handler", "attempts"),
    # a replica gone (nginx's 502, its own 503, refused) is asked again with the same key until
    # desk_retry_s is over (once more in these tests: tests/bot/conftest.py)
    [
        (failing_with(500), 1),
        (failing_with(502), 2),
        (failing_with(503, "unavailable"), 2),
        (failing_with(503), 1),  # the app's own 503 is not a replica gone
        (timing_out, 1),
        (refusing, 2),
    ],
)
async def test_open_demand_failure_keeps_the_need_and_apologises(
    desk_with: Callable[..., list[httpx.Request]],
    handler: Any,
    attempts: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen = desk_with(handler)
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        slots=NEED | {"need_pending": True}, text="好的", intent="affirm", message_id="msg-42"
    )
    events = await ActionOpenDemand().run(dispatcher, tracker, DOMAIN)

    key = idempotency_key(CONVERSATION, "msg-42")
    assert events == [SlotSet("need_submit_key", key), SlotSet("need_pending", True)]
    assert responses(dispatcher) == ["utter_need_submit_failed"]
    assert len(seen) == attempts
    assert len({r.headers["Idempotency-Key"] for r in seen}) == 1
    request = seen[0]
    assert request.method == "POST" and request.url.path == "/api/demands"
    assert request.headers["Authorization"] == "Bearer bot-test-token"
    assert request.headers["Idempotency-Key"] == key
    assert json.loads(request.content) == {
        "conversation_id": CONVERSATION,
        "channel": "web",
        "need_text": "我们有一批电线电缆需要做检测",
        "product": "电线电缆",
        "place": "江阴市周庄镇",
        "contact_name": "张伟",
        "contact_mobile": "13912345678",
        "quantity": None,
        "wanted_date": None,
        "service_mode": None,
        "company_name": None,
        "credit_code": None,
        "chosen_institution_id": None,
        "service_ids": ["6.4.2", "6.4.3"],
        "institution_ids": ["inst-a", "inst-b", "inst-c"],
        "recommended_by": "bot",
    }
    assert "13912345678" not in caplog.text
    assert "139****5678" in caplog.text


async def test_retry_reuses_the_first_key(desk_with: Callable[..., list[httpx.Request]]) -> None:
    seen = desk_with(failing_with(500))
    first_key = idempotency_key(CONVERSATION, "msg-42")
    tracker = make_tracker(
        slots=NEED | {"need_submit_key": first_key},
        text="重新提交",
        intent="affirm",
        message_id="msg-43",
    )
    events = await ActionOpenDemand().run(CollectingDispatcher(), tracker, DOMAIN)
    assert seen[0].headers["Idempotency-Key"] == first_key
    assert events[0] == SlotSet("need_submit_key", first_key)


async def test_a_turn_sent_again_to_another_rasa_server_opens_the_same_demand(
    desk_with: Callable[..., list[httpx.Request]],
) -> None:
    """A Rasa server died after opening the demand but before saving the tracker: the app
    sends the message again (to another server, which gives it a new message id) with the same
    turn key, so the desk gets the same Idempotency-Key and keeps one demand."""
    seen = desk_with(failing_with(500))
    for message_id in ("msg-on-rasa-1", "msg-on-rasa-2"):
        tracker = make_tracker(
            slots=NEED | {"need_pending": True}, text="好的", intent="affirm", message_id=message_id
        )
        tracker.events[-1]["metadata"] = {"qclinic_turn": "in-17-1764612345"}
        await ActionOpenDemand().run(CollectingDispatcher(), tracker, DOMAIN)
    first, second = (request.headers["Idempotency-Key"] for request in seen)
    assert first == second == idempotency_key(CONVERSATION, "turn:in-17-1764612345")


async def test_open_demand_without_a_need_sends_nothing(
    desk_with: Callable[..., list[httpx.Request]],
) -> None:
    seen = desk_with(failing_with(500))
    dispatcher = CollectingDispatcher()
    events = await ActionOpenDemand().run(
        dispatcher, make_tracker(text="好的", intent="affirm"), DOMAIN
    )
    assert seen == []
    assert events == [SlotSet("need_pending", None)]
    assert responses(dispatcher) == ["utter_need_nothing_pending"]


def test_idempotency_key_is_stable_and_private() -> None:
    key = idempotency_key("wx:o6_bmjrPTlm6_2sgVt7hMZOPfL2M", "msg-1")
    assert key == idempotency_key("wx:o6_bmjrPTlm6_2sgVt7hMZOPfL2M", "msg-1")
    assert key != idempotency_key("wx:o6_bmjrPTlm6_2sgVt7hMZOPfL2M", "msg-2")
    assert "o6_bmjr" not in key and len(key) <= 120


def test_channel_comes_from_the_conversation_id() -> None:
    assert channel_of("wx:o6_bmjrPTlm6") == "wechat"
    assert channel_of("web:5f0c7a1e") == "web"


def test_draft_needs_every_required_part() -> None:
    assert draft_from_slots(CONVERSATION, NEED | {"contact_mobile": None}) is None
    draft = draft_from_slots("wx:o6_x", NEED | {"need_service_ids": None})
    assert draft is not None
    assert draft.channel == "wechat" and draft.service_ids == []


def test_need_text_stays_the_users_words_without_details() -> None:
    assert compose_need_text(WHAT_AND_WHERE) == "我们有一批电线电缆需要做检测"
    long = compose_need_text({"need_text": "测" * 2100, "need_company": "某公司"})
    assert long == "测" * 2000
    # a menu click starts the form with a payload, not with the user's words
    assert compose_need_text({"need_text": "/request_service", "need_product": "电线电缆"}) == (
        "电线电缆"
    )


def test_details_travel_in_their_own_fields() -> None:
    draft = draft_from_slots(
        CONVERSATION,
        NEED
        | {
            "need_quantity": "约200米",
            "need_date": "下周五前",
            "need_service_mode": "",
            "need_company": "江阴某线缆有限公司",
            "need_credit_code": "91320281AY4CL12THQ",
        },
    )
    assert draft is not None
    assert (draft.quantity, draft.wanted_date, draft.service_mode) == ("约200米", "下周五前", None)
    assert (draft.company_name, draft.credit_code) == ("江阴某线缆有限公司", "91320281AY4CL12THQ")


async def test_a_lost_consent_is_recorded_again_before_the_demand(fake_desk: FakeDesk) -> None:
    calls = {"demands": 0}

    def demands(request: httpx.Request) -> httpx.Response:
        calls["demands"] += 1
        if calls["demands"] == 1:  # the desk never got the consent (it was down then)
            return httpx.Response(
                422, json={"detail": {"code": "consent_required", "message": "需先同意隐私告知"}}
            )
        return httpx.Response(201, json=OPENED)

    fake_desk.on("POST", "/api/demands", demands)
    fake_desk.on("POST", "/api/consents", {"id": 2}, status=201)
    dispatcher = CollectingDispatcher()
    events = await ActionCompleteNeed().run(
        dispatcher, make_tracker(slots=NEED | {"need_decision": "submit"}), DOMAIN
    )
    assert [r.url.path for r in fake_desk.requests] == [
        "/api/demands",
        "/api/consents",
        "/api/demands",
    ]
    assert (
        fake_desk.requests[0].headers["Idempotency-Key"]
        == fake_desk.requests[2].headers["Idempotency-Key"]
    )
    assert events[-1] == SlotSet("demand_last_number", "XQ20260601-0001")


@pytest.mark.parametrize(
    ("answer", "agreed"), [("1", True), ("同意", True), ("2", False), ("不同意", False)]
)
async def test_explicit_consent_by_number_or_word(
    consents: FakeDesk, answer: str, agreed: bool
) -> None:
    events, _ = await validate(
        {"privacy_consent": answer},
        slots=WHAT_AND_WHERE
        | {"contact_mobile": "13912345678", "requested_slot": "privacy_consent"},
        text=answer,
    )
    assert events[0] == SlotSet("privacy_consent", agreed)
    assert consents.bodies("POST", "/api/consents")[0]["agreed"] is agreed


# --- the form listens: every detail of every message (bot/actions/listening.py) -------------------

WHOLE_NEED = (
    "江阴华达机械有限公司，联系人王明13912345678，我们有50根电线电缆要测导体电阻，"
    "在周庄镇，两周内要结果，送样"
)


async def test_a_whole_need_as_the_first_message_fills_every_slot(fake_desk: FakeDesk) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(text=WHOLE_NEED, slots={"need_text": WHOLE_NEED, "need_detected": True})
    events = await ValidateNeedForm().run(dispatcher, tracker, DOMAIN)  # at activation
    assert events == [
        SlotSet("need_product", "电线电缆"),
        SlotSet("need_place", "周庄镇"),
        SlotSet("need_quantity", "50根"),
        SlotSet("need_date", "两周内"),
        SlotSet("need_service_mode", "送样"),
        SlotSet("need_company", "江阴华达机械有限公司"),
        SlotSet("contact_name", "王明"),
        SlotSet("contact_mobile", "13912345678"),
        SlotSet("requested_slot", "privacy_consent"),  # only what is missing: the consent
        SlotSet("need_detected", None),
    ]
    assert dispatcher.messages == []
    assert fake_desk.requests == []  # no consent before the notice was shown


async def test_asked_for_a_name_a_quantity_is_refused_but_kept() -> None:
    events, dispatcher = await validate(
        {"contact_name": "20块"},
        slots=WHAT_AND_WHERE | {"privacy_consent": True, "requested_slot": "contact_name"},
        text="20块",
    )
    assert events == [
        SlotSet("contact_name", None),
        SlotSet("need_quantity", "20块"),
        SlotSet("requested_slot", "contact_name"),
    ]
    assert responses(dispatcher) == ["utter_need_noted"]
    assert dispatcher.messages[0]["noted"] == "数量 20块"


async def test_a_quantity_the_slot_mapping_took_from_the_entity_is_acknowledged_too() -> None:
    # NLU found the quantity (StructuredEntityExtractor), so Rasa's from_entity mapping set it
    events, dispatcher = await validate(
        {"contact_name": "20块", "need_quantity": "20块"},
        slots=WHAT_AND_WHERE | {"privacy_consent": True, "requested_slot": "contact_name"},
        text="20块",
    )
    assert SlotSet("contact_name", None) in events and SlotSet("need_quantity", "20块") in events
    assert responses(dispatcher) == ["utter_need_noted"]
    assert dispatcher.messages[0]["noted"] == "数量 20块"


async def test_a_vague_quantity_replaced_by_the_mapping_is_acknowledged() -> None:
    events, dispatcher = await validate(
        {"contact_name": "20块", "need_quantity": "20块"},
        slots=WHAT_AND_WHERE
        | {"need_quantity": "一批", "privacy_consent": True, "requested_slot": "contact_name"},
        text="20块",
    )
    assert SlotSet("need_quantity", "20块") in events
    assert dispatcher.messages[0]["noted"] == "数量 20块"


async def test_a_date_word_is_never_a_name_and_fills_the_open_date() -> None:
    events, dispatcher = await validate(
        {"contact_name": "下周"},
        slots=WHAT_AND_WHERE
        | {"need_quantity": "20块", "privacy_consent": True, "requested_slot": "contact_name"},
        text="下周",
    )
    assert events == [
        SlotSet("contact_name", None),
        SlotSet("need_date", "下周"),
        SlotSet("requested_slot", "contact_name"),
    ]
    assert responses(dispatcher) == ["utter_need_noted"]


async def test_a_date_word_with_the_date_given_is_refused_as_a_name() -> None:
    events, dispatcher = await validate(
        {"contact_name": "下周"},
        slots=WHAT_AND_WHERE
        | {"need_date": "月底前", "privacy_consent": True, "requested_slot": "contact_name"},
        text="下周",
    )
    assert SlotSet("contact_name", None) in events
    assert SlotSet("need_date", "下周") not in events  # a detail given early is kept
    assert responses(dispatcher) == ["utter_need_name_invalid"]


async def test_several_details_for_the_place_question_fill_several_slots() -> None:
    events, dispatcher = await validate(
        {"need_place": "周庄镇，50台，月底前"},
        slots={"need_product": "电线电缆", "requested_slot": "need_place"},
        text="周庄镇，50台，月底前",
    )
    assert events == [
        SlotSet("need_place", "周庄镇"),
        SlotSet("need_quantity", "50台"),
        SlotSet("need_date", "月底前"),
        SlotSet("requested_slot", "contact_name"),  # both kept: not asked again
    ]
    assert responses(dispatcher) == ["utter_need_noted"]
    assert dispatcher.messages[0]["noted"] == "数量 50台、时间要求 月底前"


async def test_a_quantity_is_not_a_place() -> None:
    events, _ = await validate(
        {"need_place": "50台"},
        slots={"need_product": "电线电缆", "requested_slot": "need_place"},
        text="50台",
    )
    assert events[:2] == [SlotSet("need_place", None), SlotSet("need_quantity", "50台")]
    assert events[-1] == SlotSet("requested_slot", "need_place")


async def test_a_mobile_volunteered_before_the_notice_is_kept_without_consent(
    fake_desk: FakeDesk,
) -> None:
    events, _ = await validate(
        {"need_place": "周庄镇，电话13912345678"},
        slots={"need_product": "电线电缆", "requested_slot": "need_place"},
        text="周庄镇，电话13912345678",
    )
    assert SlotSet("contact_mobile", "13912345678") in events
    assert all(e["name"] != "privacy_consent" for e in events)
    assert events[-1] == SlotSet("requested_slot", "privacy_consent")  # the notice comes next
    assert fake_desk.requests == []


async def test_a_question_in_passing_is_answered_and_the_form_goes_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from types import SimpleNamespace

    from bot.actions import listening

    searched: list[str] = []

    def best_service(text: str) -> Any:
        searched.append(text)
        return SimpleNamespace(
            title="检验检测需求匹配与委托检测", materials=["检测需求说明", "样品"]
        )

    monkeypatch.setattr(listening, "_best_service_sync", best_service)
    text = "我们是做电机的，想找家机构做能效检测，顺便问下要准备什么材料"
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        text=text,
        intent="request_service",
        entities=[entity("product", "电机", text)],
        candidates={"need_product": "电机"},
        slots={"need_text": text},
    )
    events = await ValidateNeedForm().run(dispatcher, tracker, DOMAIN)
    assert events == [SlotSet("need_product", "电机"), SlotSet("requested_slot", "need_place")]
    assert responses(dispatcher) == ["utter_need_passing_materials"]
    assert dispatcher.messages[0]["answer"] == "1. 检测需求说明\n2. 样品"
    assert searched and "要准备什么材料" not in searched[0] and "能效检测" in searched[0]


async def test_a_question_during_the_form_is_not_taken_as_the_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot.actions import listening

    monkeypatch.setattr(listening, "_best_service_sync", lambda text: None)

    async def no_faq(text: str) -> list:
        return []

    monkeypatch.setattr(listening, "search_faq", no_faq)
    text = "顺便问下收费多少钱"
    events, dispatcher = await validate(
        {"need_place": text},
        slots={"need_product": "电线电缆", "requested_slot": "need_place", "need_text": "电缆检测"},
        text=text,
    )
    assert events == [SlotSet("need_place", None), SlotSet("requested_slot", "need_place")]
    assert responses(dispatcher) == ["utter_need_passing_unknown"]


async def test_the_notice_shown_once_is_not_repeated_word_for_word() -> None:
    shown = [
        {"event": "action", "name": "utter_need_start"},
        {"event": "bot", "text": "【隐私提示】为便于服务机构联系您……请问联系人怎么称呼？"},
    ]
    dispatcher = CollectingDispatcher()
    await ActionAskContactName().run(dispatcher, make_tracker(history=shown), DOMAIN)
    assert responses(dispatcher) == ["utter_ask_contact_name_again"]
    dispatcher = CollectingDispatcher()
    await ActionAskContactName().run(dispatcher, make_tracker(), DOMAIN)
    assert responses(dispatcher) == ["utter_ask_contact_name_with_notice"]
    # a notice of an earlier need does not count for this one
    dispatcher = CollectingDispatcher()
    later = [*shown, {"event": "action", "name": "utter_need_start"}]
    await ActionAskContactName().run(dispatcher, make_tracker(history=later), DOMAIN)
    assert responses(dispatcher) == ["utter_ask_contact_name_with_notice"]


async def test_the_consent_question_and_the_modes_are_asked_briefly_again() -> None:
    from bot.actions.need_summary import ActionAskNeedServiceMode, ActionAskPrivacyConsent

    dispatcher = CollectingDispatcher()
    await ActionAskPrivacyConsent().run(dispatcher, make_tracker(), DOMAIN)
    assert responses(dispatcher) == ["utter_ask_privacy_consent"]
    shown = [
        {"event": "action", "name": "utter_need_start"},
        {"event": "bot", "text": "【隐私提示】您提供的联系人姓名和手机号……"},
        {
            "event": "bot",
            "text": "您希望以哪种方式办理？回复数字即可：\n1. 送样（把样品送到机构或站点）",
        },
    ]
    dispatcher = CollectingDispatcher()
    await ActionAskPrivacyConsent().run(dispatcher, make_tracker(history=shown), DOMAIN)
    await ActionAskNeedServiceMode().run(dispatcher, make_tracker(history=shown), DOMAIN)
    assert responses(dispatcher) == [
        "utter_ask_privacy_consent_again",
        "utter_ask_need_service_mode_again",
    ]


async def test_details_that_state_a_need_start_it() -> None:
    from bot.actions.need import ActionRouteDetails

    dispatcher = CollectingDispatcher()
    events = await ActionRouteDetails().run(dispatcher, make_tracker(text=WHOLE_NEED), DOMAIN)
    assert SlotSet("need_text", WHOLE_NEED) in events
    assert events[-1] == SlotSet("need_detected", True)
    assert dispatcher.messages == []
    dispatcher = CollectingDispatcher()
    events = await ActionRouteDetails().run(dispatcher, make_tracker(text="江阴"), DOMAIN)
    assert events == [SlotSet("need_detected", False)]
    assert responses(dispatcher) == ["utter_need_ask_what"]


async def test_a_count_replaces_a_vague_quantity_but_not_a_count() -> None:
    slots = WHAT_AND_WHERE | {"privacy_consent": True, "requested_slot": "contact_name"}
    events, _ = await validate(
        {"contact_name": "20块"}, slots=slots | {"need_quantity": "一批"}, text="20块"
    )
    assert SlotSet("need_quantity", "20块") in events
    events, dispatcher = await validate(
        {"contact_name": "20块"}, slots=slots | {"need_quantity": "50台"}, text="20块"
    )
    assert all(e["name"] != "need_quantity" for e in events)
    assert responses(dispatcher) == ["utter_need_name_invalid"]
