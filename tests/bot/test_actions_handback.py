"""Back from an expert: the greeting per outcome, the expert's words kept, the handoff cleared."""

import pytest
from rasa_sdk.events import ActionExecuted, ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.handback import (
    BACK_RESPONSES,
    ActionHandoffBack,
    ExpertMessage,
    clipped,
    expert_messages,
)

from .trackers import DOMAIN, EXPERT, expert_event, handback_tracker, user_event

ANSWER = "压力表属于强制检定的计量器具，请到江阴市计量测试所送检，一般3个工作日出证书。"
CONSULTATION = [
    user_event("我们的压力表要不要强制检定", "ask_faq", "m-u1"),
    expert_event("您好，我是质量门诊专家李工。"),
    expert_event(ANSWER),
]
BUTTONS = ["找机构/办需求", "查进度", "投诉", "问流程"]


async def hand_back(tracker: object) -> tuple[CollectingDispatcher, list]:
    dispatcher = CollectingDispatcher()
    events = await ActionHandoffBack().run(dispatcher, tracker, DOMAIN)  # type: ignore[arg-type]
    return dispatcher, events


def cleared(said: str | None) -> list:
    return [
        SlotSet("handoff_outcome", None),
        SlotSet("handoff_expert_said", said),
        ActionExecuted("action_listen"),
    ]


@pytest.mark.parametrize(
    ("outcome", "response"),
    [
        ("answered", "utter_handoff_back_answered"),
        ("demand_opened", "utter_handoff_back_demand_opened"),
        ("complaint_opened", "utter_handoff_back_complaint_opened"),
        ("no_reply", "utter_handoff_back_no_reply"),
        ("timeout", "utter_handoff_back_timeout"),
        ("cancelled", "utter_handoff_back_cancelled"),
        (None, "utter_handoff_back"),
        ("something_new", "utter_handoff_back"),
    ],
)
async def test_each_outcome_has_its_greeting_back(outcome: str | None, response: str) -> None:
    dispatcher, events = await hand_back(handback_tracker(outcome, consultation=CONSULTATION))
    assert dispatcher.messages[0]["response"] == response
    assert len(dispatcher.messages) == 1
    assert events == cleared(ANSWER)


async def test_nothing_said_leaves_no_expert_words() -> None:
    dispatcher, events = await hand_back(handback_tracker("timeout"))
    assert dispatcher.messages[0]["response"] == "utter_handoff_back_timeout"
    assert events == cleared(None)


def test_the_copy_says_what_happened_and_offers_the_main_actions() -> None:
    responses = DOMAIN["responses"]
    for name in [*BACK_RESPONSES.values(), "utter_handoff_back"]:
        [variant] = responses[name]
        assert [b["title"] for b in variant["buttons"]] == BUTTONS, name
    assert (
        "专家已结束本次咨询，接下来由智能助手继续为您服务。"
        in (responses["utter_handoff_back_answered"][0]["text"])
    )
    demand = responses["utter_handoff_back_demand_opened"][0]["text"]
    assert "登记需求" in demand and "查进度" in demand
    for name in ("utter_handoff_back_no_reply", "utter_handoff_back_timeout"):
        assert "转回智能助手" in responses[name][0]["text"]


def test_the_hand_back_slots_are_declared_for_the_app() -> None:
    outcome, said = DOMAIN["slots"]["handoff_outcome"], DOMAIN["slots"]["handoff_expert_said"]
    assert outcome["values"] == [*BACK_RESPONSES]
    for slot in (outcome, said):
        assert slot["influence_conversation"] is False
        assert slot["mappings"] == [{"type": "custom"}]
    assert "action_handoff_back" in DOMAIN["actions"]


async def test_the_latest_consultation_only() -> None:
    earlier = [
        *CONSULTATION[:1],
        expert_event("上次的答复：请准备营业执照。", escalation_id=3),
        {"event": "slot", "name": "handoff_outcome", "value": "answered"},
        {"event": "action", "name": "action_handoff_back"},
        {"event": "slot", "name": "handoff_outcome", "value": None},
    ]
    # this time nobody claimed: the earlier expert's words are not this consultation's
    _, events = await hand_back(handback_tracker("timeout", history=earlier))
    assert events == cleared(None)

    now = [
        expert_event("稍等，我转给同事。", escalation_id=8),
        expert_event("好的，已处理。", escalation_id=9),
    ]
    _, events = await hand_back(handback_tracker("answered", history=earlier, consultation=now))
    assert events == cleared("好的，已处理。")


def test_expert_messages_are_read_from_the_metadata() -> None:
    events = [
        {"event": "bot", "text": "机器人的话", "metadata": {}},
        {"event": "bot", "text": "", "metadata": {"qclinic_expert": EXPERT, "escalation_id": 7}},
        expert_event("专家的话"),
        {"event": "user", "text": "用户的话", "metadata": {"qclinic_expert": EXPERT}},
    ]
    assert expert_messages(events) == [ExpertMessage(EXPERT, 7, "专家的话")]


async def test_the_expert_words_are_masked_and_clipped() -> None:
    long = "请联系张工 13912345678，" + "具体材料清单见平台。" * 40
    _, events = await hand_back(handback_tracker("answered", consultation=[expert_event(long)]))
    said = events[1]["value"]
    assert said.startswith("请联系张工 139****5678，") and said.endswith("…")
    assert len(said) == 200 and "13912345678" not in said
    assert clipped("第一行\n第二行") == "第一行 第二行"


async def test_a_form_left_open_and_a_stale_choice_are_cleared() -> None:
    tracker = handback_tracker(
        "answered",
        consultation=CONSULTATION,
        slots={"pending_choice": "faq", "requested_slot": "need_place"},
        active_loop="need_form",
    )
    _, events = await hand_back(tracker)
    assert events == [
        ActiveLoop(None),
        SlotSet("requested_slot", None),
        SlotSet("pending_choice", None),
        *cleared(ANSWER),
    ]
