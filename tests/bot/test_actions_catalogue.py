"""The catalogue in chat (action_browse_catalogue) and a need started from it (咨询这项服务)."""

import json

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import catalogue
from bot.actions.catalogue import ActionBrowseCatalogue, manual, payload
from bot.actions.need import ActionStartNeed, need_required_slots
from knowledge.platform import unknown_references
from knowledge.store import load_knowledge

from .trackers import DOMAIN, entity, make_tracker, responses

KB = load_knowledge()


@pytest.fixture(autouse=True)
def sample_knowledge(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(catalogue, "knowledge", lambda: KB)


async def browse(text: str = "服务目录", **entities: str) -> CollectingDispatcher:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        text=text,
        intent="browse_catalogue",
        entities=[entity(name, value) for name, value in entities.items()],
    )
    assert await ActionBrowseCatalogue().run(dispatcher, tracker, DOMAIN) == []
    return dispatcher


def parsed(button: dict[str, str]) -> tuple[str, dict[str, str]]:
    """A payload as Rasa reads it: /intent{json entities}."""
    text = button["payload"]
    intent, _, rest = text[1:].partition("{")
    return intent, json.loads("{" + rest) if rest else {}


async def test_the_catalogue_offers_the_domains_with_their_service_counts() -> None:
    dispatcher = await browse()
    assert responses(dispatcher) == ["utter_catalogue_domains"]
    buttons = dispatcher.messages[0]["buttons"]
    assert [b["title"] for b in buttons] == [
        "计量（4项）", "标准化（5项）", "认证认可（3项）", "检验检测（4项）",
        "质量管理（4项）", "知识产权（3项）", "其他/综合（11项）",
    ]  # fmt: skip
    assert parsed(buttons[3]) == ("browse_catalogue", {"catalogue_domain": "testing"})


async def test_a_domain_lists_its_services_and_a_way_back() -> None:
    dispatcher = await browse("/browse_catalogue", catalogue_domain="testing")
    assert responses(dispatcher) == ["utter_catalogue_services"]
    assert dispatcher.messages[0]["domain"] == "检验检测"
    buttons = dispatcher.messages[0]["buttons"]
    assert [parsed(b)[1].get("catalogue_service") for b in buttons[:-1]] == [
        "6.4.1", "6.4.2", "6.4.3", "6.4.4"
    ]  # fmt: skip
    assert buttons[-1]["title"] == "返回服务目录" and parsed(buttons[-1]) == (
        "browse_catalogue",
        {},
    )


async def test_a_service_shows_its_manual_and_the_consult_button() -> None:
    dispatcher = await browse("/browse_catalogue", catalogue_service="6.4.2")
    assert responses(dispatcher) == ["utter_catalogue_service"]
    message = dispatcher.messages[0]
    service = KB.get("6.4.2")
    text = message["manual"]
    for part in ("受理条件：", "办事材料：", "服务流程：", "服务承诺："):
        assert part in text
    for item in [*service.materials, *service.acceptance_conditions, service.commitment]:  # type: ignore[union-attr]
        assert item in text
    best = max(KB.institutions_for("6.4.2"), key=lambda i: i.rating)
    assert best.title in text
    assert message["title"] == service.title and message["domain"] == "检验检测"  # type: ignore[union-attr]
    titles = [b["title"] for b in message["buttons"]]
    assert titles == ["咨询这项服务", "返回检验检测", "返回服务目录"]
    assert parsed(message["buttons"][0]) == ("request_service", {"service_id": "6.4.2"})


async def test_an_unknown_service_says_so_and_offers_the_catalogue() -> None:
    dispatcher = await browse("/browse_catalogue", catalogue_service="6.9.9")
    assert responses(dispatcher) == ["utter_catalogue_unknown", "utter_catalogue_domains"]


def test_every_manual_names_no_section_the_platform_lacks() -> None:
    for service in KB.services:
        assert unknown_references(manual(KB, service)) == [], service.id


async def test_consulting_a_service_starts_the_need_with_it_filled_in() -> None:
    dispatcher = CollectingDispatcher()
    text = payload("request_service", service_id="6.4.2")
    tracker = make_tracker(
        text=text, intent="request_service", entities=[entity("service_id", "6.4.2")]
    )
    events = await ActionStartNeed().run(dispatcher, tracker, DOMAIN)
    slots: dict[str, object] = {}
    for event in events:
        slots[event["name"]] = event["value"]
    assert slots["need_service_ids"] == ["6.4.2"]
    assert slots["need_domain"] == "检验检测"
    offered = sorted(KB.institutions_for("6.4.2"), key=lambda i: -i.rating)[:3]
    assert slots["need_institution_ids"] == [i.id for i in offered]
    assert responses(dispatcher) == ["utter_catalogue_chosen"]
    # the form asks what to test and where next, never again which service (no new search)
    assert need_required_slots(slots)[0] == "need_product"


async def test_consulting_an_institution_makes_it_the_only_choice() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        text="/request_service",
        intent="request_service",
        entities=[
            entity("service_id", "6.1.2"),
            entity("institution_id", "inst-zhouzhuang-calibration"),
        ],
    )
    events = await ActionStartNeed().run(dispatcher, tracker, DOMAIN)
    assert SlotSet("need_institution_ids", ["inst-zhouzhuang-calibration"]) in events
    assert SlotSet("need_institution_titles", ["江阴周庄精准计量校准有限公司"]) in events
    assert responses(dispatcher) == ["utter_catalogue_chosen_institution"]


async def test_a_need_stated_in_words_is_untouched() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(text="我们有电线电缆要检测", intent="request_service")
    events = await ActionStartNeed().run(dispatcher, tracker, DOMAIN)
    assert SlotSet("need_service_ids", None) in events
    assert not any(e["name"] == "need_domain" and e["value"] for e in events)
    assert dispatcher.messages == []
