"""validate_need_form, the need actions and action_open_demand, driven with rasa_sdk trackers.

The desk is replaced only for its failure modes (500, timeout, unreachable), through the
overridable client factory; opening a demand for real is covered by the end-to-end test against
the real desk.
"""

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from pydantic import SecretStr
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import desk, settings
from bot.actions.demand import (
    ActionOpenDemand,
    channel_of,
    draft_from_slots,
    idempotency_key,
)
from bot.actions.need import (
    NEED_SLOTS,
    ActionResetNeed,
    ActionStartNeed,
    ValidateNeedForm,
)
from bot.actions.recommend import ActionRecommendServices, need_query, plan_reply
from bot.actions.recommend import Reply as RecommendReply

DOMAIN_DIR = Path(__file__).resolve().parents[2] / "bot" / "domain"
CONVERSATION = "web:5f0c7a1e-test"


def load_domain() -> dict[str, Any]:
    """The real domain, merged from bot/domain/*.yml the way Rasa merges it."""
    merged: dict[str, Any] = {}
    for path in sorted(DOMAIN_DIR.glob("*.yml")):
        part = yaml.safe_load(path.read_text(encoding="utf-8"))
        for key, value in part.items():
            if isinstance(value, dict):
                merged.setdefault(key, {}).update(value)
            elif isinstance(value, list):
                merged.setdefault(key, []).extend(value)
            else:
                merged[key] = value
    return merged


DOMAIN = load_domain()
ALL_SLOTS = {name: None for name in DOMAIN["slots"]} | {"requested_slot": None}


def user_event(text: str, intent: str = "inform", message_id: str = "m-1") -> dict[str, Any]:
    return {
        "event": "user",
        "text": text,
        "message_id": message_id,
        "parse_data": {"intent": {"name": intent, "confidence": 0.9}, "entities": []},
    }


def make_tracker(
    *,
    slots: dict[str, Any] | None = None,
    text: str = "",
    intent: str = "inform",
    entities: list[dict[str, Any]] | None = None,
    candidates: dict[str, Any] | None = None,
    message_id: str = "m-1",
    active_loop: str | None = None,
    sender_id: str = CONVERSATION,
) -> Tracker:
    """A tracker as Rasa sends it; `candidates` are slot events extracted this turn."""
    events = [{"event": "action", "name": "action_listen"}, user_event(text, intent, message_id)]
    events += [{"event": "slot", "name": k, "value": v} for k, v in (candidates or {}).items()]
    return Tracker.from_dict(
        {
            "sender_id": sender_id,
            "slots": ALL_SLOTS | (slots or {}) | (candidates or {}),
            "latest_message": {
                "text": text,
                "message_id": message_id,
                "intent": {"name": intent, "confidence": 0.9},
                "entities": entities or [],
            },
            "events": events,
            "active_loop": {"name": active_loop} if active_loop else {},
            "latest_action_name": "action_listen",
        }
    )


def responses(dispatcher: CollectingDispatcher) -> list[str | None]:
    return [message.get("response") for message in dispatcher.messages]


# --- validate_need_form ---------------------------------------------------------------------


async def run_form_validation(candidates: dict[str, Any], **kwargs: Any) -> tuple[list, Any]:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(candidates=candidates, active_loop="need_form", **kwargs)
    events = await ValidateNeedForm().run(dispatcher, tracker, DOMAIN)
    return events, dispatcher


async def test_form_keeps_a_good_place() -> None:
    events, dispatcher = await run_form_validation(
        {"need_place": "江阴市周庄镇"}, slots={"requested_slot": "need_place"}, text="江阴市周庄镇"
    )
    assert events == [SlotSet("need_place", "江阴市周庄镇")]
    assert dispatcher.messages == []


async def test_form_cleans_a_name() -> None:
    events, dispatcher = await run_form_validation(
        {"contact_name": "我叫张伟"}, slots={"requested_slot": "contact_name"}, text="我叫张伟"
    )
    assert events == [SlotSet("contact_name", "张伟")]
    assert dispatcher.messages == []


async def test_form_normalises_a_mobile() -> None:
    events, dispatcher = await run_form_validation(
        {"contact_mobile": "+86 139-1234-5678"},
        slots={"requested_slot": "contact_mobile"},
        text="+86 139-1234-5678",
        intent="nlu_fallback",
    )
    assert events == [SlotSet("contact_mobile", "13912345678")]
    assert dispatcher.messages == []


async def test_form_rejects_a_bad_mobile_and_explains() -> None:
    events, dispatcher = await run_form_validation(
        {"contact_mobile": "1391234"}, slots={"requested_slot": "contact_mobile"}, text="1391234"
    )
    assert events == [SlotSet("contact_mobile", None)]
    assert dispatcher.messages[0]["response"] == "utter_need_mobile_invalid"


async def test_form_rejects_a_number_as_name() -> None:
    events, dispatcher = await run_form_validation(
        {"contact_name": "13912345678"},
        slots={"requested_slot": "contact_name"},
        text="13912345678",
    )
    assert events == [SlotSet("contact_name", None)]
    assert dispatcher.messages[0]["response"] == "utter_need_name_invalid"


async def test_form_rejects_an_overlong_place() -> None:
    events, dispatcher = await run_form_validation(
        {"need_place": "江" * 60}, slots={"requested_slot": "need_place"}, text="江" * 60
    )
    assert events == [SlotSet("need_place", None)]
    assert dispatcher.messages[0]["response"] == "utter_need_place_invalid"


async def test_form_joins_several_named_products() -> None:
    entities = [
        {"entity": "product", "value": "阀门", "start": 0, "end": 2},
        {"entity": "product", "value": "水泵", "start": 3, "end": 5},
    ]
    events, _ = await run_form_validation(
        {"need_product": "水泵"},
        slots={"requested_slot": "need_product"},
        text="阀门和水泵",
        entities=entities,
    )
    assert events == [SlotSet("need_product", "阀门、水泵")]


async def test_form_validates_a_prefilled_product() -> None:
    events, dispatcher = await run_form_validation(
        {"need_product": "电线电缆"}, text="我们有一批电线电缆需要做检测", intent="request_service"
    )
    assert events == [SlotSet("need_product", "电线电缆")]
    assert dispatcher.messages == []


async def test_form_does_not_complain_about_a_cleared_slot() -> None:
    events, dispatcher = await run_form_validation(
        {"need_product": None}, text="我们想做个质量管理体系认证", intent="request_service"
    )
    assert events == [SlotSet("need_product", None)]
    assert dispatcher.messages == []


async def test_form_ignores_slots_outside_the_form() -> None:
    events, _ = await run_form_validation({"need_text": "我们有一批电线电缆需要做检测"})
    assert events == []


# --- start and reset ------------------------------------------------------------------------


async def test_start_need_keeps_a_product_named_in_the_message() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        text="我们有一批电线电缆需要做检测",
        intent="request_service",
        entities=[{"entity": "product", "value": "电线电缆"}],
        slots={"need_product": "电线电缆", "need_pending": True},
    )
    events = await ActionStartNeed().run(dispatcher, tracker, DOMAIN)
    assert events == [
        SlotSet("need_service_ids", None),
        SlotSet("need_institution_ids", None),
        SlotSet("need_pending", None),
        SlotSet("need_submit_key", None),
    ]
    assert dispatcher.messages == []


async def test_start_need_forgets_the_previous_product() -> None:
    tracker = make_tracker(
        text="我们想做个认证", intent="request_service", slots={"need_product": "压力表"}
    )
    events = await ActionStartNeed().run(CollectingDispatcher(), tracker, DOMAIN)
    assert events[-1] == SlotSet("need_product", None)


async def test_reset_clears_every_need_slot() -> None:
    events = await ActionResetNeed().run(CollectingDispatcher(), make_tracker(), DOMAIN)
    assert events == [SlotSet(name, None) for name in NEED_SLOTS]
    assert all(name in DOMAIN["slots"] for name in NEED_SLOTS)


# --- recommendations (the reply; the search itself is the retrieval package's) --------------


class Rec:
    def __init__(self, id: str, kind: str, title: str, reason: str) -> None:
        self.id, self.kind, self.title, self.reason, self.score = id, kind, title, reason, 0.9


def test_need_query_adds_an_unnamed_product() -> None:
    assert need_query("我们想做检测", "压力表") == "我们想做检测 压力表"
    assert need_query("电线电缆要检测", "电线电缆") == "电线电缆要检测"
    assert need_query(None, "压力表") == "压力表"


def test_reply_lists_services_and_institutions_with_reasons() -> None:
    reply = plan_reply(
        [
            Rec("6.4.2", "service", "检验检测机构匹配", "协助匹配技术机构"),
            Rec("inst-01", "institution", "某检测中心", "可承接电线电缆；具备CMA资质"),
        ]
    )
    assert reply == RecommendReply(
        "utter_need_recommendation",
        {
            "services": "1. 检验检测机构匹配：协助匹配技术机构",
            "institutions": "1. 某检测中心：可承接电线电缆；具备CMA资质",
        },
        ["6.4.2"],
        ["inst-01"],
    )


def test_reply_without_a_match_says_so() -> None:
    assert plan_reply([]) == RecommendReply("utter_need_no_match", {}, [], [])


async def test_recommend_says_no_match_when_the_search_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot.actions import recommend

    def broken(text: str, region: str | None) -> list[Any]:
        raise RuntimeError("index not built")

    monkeypatch.setattr(recommend, "_recommend_sync", broken)
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        slots={"need_text": "我们有一批电线电缆需要做检测", "need_place": "江阴市周庄镇"}
    )
    events = await ActionRecommendServices().run(dispatcher, tracker, DOMAIN)
    assert events == [
        SlotSet("need_service_ids", []),
        SlotSet("need_institution_ids", []),
        SlotSet("need_pending", True),
    ]
    assert dispatcher.messages[0]["response"] == "utter_need_no_match"


# --- action_open_demand ---------------------------------------------------------------------

NEED = {
    "need_text": "我们有一批电线电缆需要做检测",
    "need_product": "电线电缆",
    "need_place": "江阴市周庄镇",
    "contact_name": "张伟",
    "contact_mobile": "13912345678",
    "need_service_ids": ["6.4.2", "6.4.3"],
    "need_institution_ids": ["inst-a", "inst-b", "inst-c"],
    "need_pending": True,
}


@pytest.fixture
def desk_with(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., list[httpx.Request]]]:
    """Point the actions at a desk that answers with `handler`; returns the requests seen."""
    test_settings = settings.ActionSettings(
        service_token=SecretStr("bot-test-token"), desk_timeout_s=1
    )
    monkeypatch.setattr(settings, "get_settings", lambda: test_settings)
    seen: list[httpx.Request] = []

    def install(handler: Callable[[httpx.Request], httpx.Response]) -> list[httpx.Request]:
        def recording(request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return handler(request)

        client = httpx.AsyncClient(
            base_url="http://desk.test", transport=httpx.MockTransport(recording)
        )
        monkeypatch.setattr(desk, "get_desk_client", lambda: client)
        return seen

    yield install


def failing_with(status: int) -> Callable[[httpx.Request], httpx.Response]:
    body = {"detail": {"code": "internal", "message": "服务器内部错误"}}
    return lambda request: httpx.Response(status, json=body)


def timing_out(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("desk too slow", request=request)


def refusing(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


@pytest.mark.parametrize("handler", [failing_with(500), failing_with(503), timing_out, refusing])
async def test_open_demand_failure_keeps_the_need_and_apologises(
    desk_with: Callable[..., list[httpx.Request]],
    handler: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen = desk_with(handler)
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(slots=NEED, text="好的", intent="affirm", message_id="msg-42")
    events = await ActionOpenDemand().run(dispatcher, tracker, DOMAIN)

    key = idempotency_key(CONVERSATION, "msg-42")
    assert events == [SlotSet("need_submit_key", key), SlotSet("need_pending", True)]
    assert dispatcher.messages[0]["response"] == "utter_need_submit_failed"
    assert len(dispatcher.messages) == 1

    (request,) = seen
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
    assert dispatcher.messages[0]["response"] == "utter_need_nothing_pending"


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
