"""Self-service answers of action_answer_faq: a standard's validity from the standards table, what
the platform offers from its services, a service's manual from its fields (the real index finds
the service), FAQ answers citing their standards, and the welcome's 猜你想问 from the desk."""

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from rasa_sdk.executor import CollectingDispatcher

import retrieval.live
from bot.actions import faq, self_service, service_manual, welcome
from bot.actions.faq import ActionAnswerFaq, FaqHit
from bot.actions.welcome import ActionWelcome
from knowledge.store import KnowledgeBase, load_knowledge
from retrieval import search as search_module
from retrieval.settings import RetrievalSettings

from .conftest import FakeDesk
from .trackers import DOMAIN, make_tracker

SAMPLE = load_knowledge()


@pytest.fixture(autouse=True)
def sample_knowledge(monkeypatch: pytest.MonkeyPatch) -> KnowledgeBase:
    monkeypatch.setattr(self_service, "knowledge_now", lambda: SAMPLE)
    return SAMPLE


@pytest.fixture
def real_index(monkeypatch: pytest.MonkeyPatch, retrieval_settings: RetrievalSettings) -> None:
    monkeypatch.setattr(search_module, "get_settings", lambda: retrieval_settings)
    monkeypatch.setattr(retrieval.live, "get_settings", lambda: retrieval_settings)


@pytest.fixture
def no_faq(monkeypatch: pytest.MonkeyPatch) -> None:
    async def nothing(text: str) -> list[FaqHit]:
        return []

    monkeypatch.setattr(faq, "search_faq", nothing)


async def ask(text: str, **kwargs: Any) -> CollectingDispatcher:
    dispatcher = CollectingDispatcher()
    await ActionAnswerFaq().run(
        dispatcher, make_tracker(text=text, intent="ask_faq", **kwargs), DOMAIN
    )
    return dispatcher


# ── standards ────────────────────────────────────────────────────────────────────────────


async def test_a_standard_is_answered_with_status_dates_and_replacement(no_faq: None) -> None:
    message = (await ask("GB/T 19001-2016还有效吗")).messages[0]
    assert message["response"] == "utter_standard_status"
    assert message["standard_lines"] == (
        "· GB/T 19001-2016《质量管理体系 要求》：现行有效，2017-07-01 起实施。"
    )
    lines = (await ask("19001现在还能用吗")).messages[0]["standard_lines"].splitlines()
    assert lines[0].startswith("· GB/T 19001-2016《质量管理体系 要求》：现行有效")
    assert lines[1] == (
        "· GB/T 19001-2008《质量管理体系 要求》：已废止，2009-03-01 起实施，已于 2017-07-01 废止，"
        "由 GB/T 19001-2016（现行有效）代替。"
    )


async def test_a_code_the_table_lacks_is_not_guessed(no_faq: None) -> None:
    messages = (await ask("GB/T 12345-2010有效吗")).messages
    assert [(m["response"], m.get("standard_code")) for m in messages] == [
        ("utter_standard_unknown", "GB/T 12345-2010")
    ]


async def test_a_faq_answer_cites_its_standard_with_its_status(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base = SAMPLE.get("faq-register-how")
    assert base is not None and base.sources
    cited = base.model_copy(
        update={"sources": [*base.sources, SAMPLE.get("6.3.1").sources[-1]]}  # type: ignore[union-attr]
    )
    knowledge = KnowledgeBase.from_entries(
        cited if e.id == base.id else e for e in SAMPLE.entries()
    )
    monkeypatch.setattr(self_service, "knowledge_now", lambda: knowledge)

    async def search(text: str) -> list[FaqHit]:
        return [FaqHit(cited.id, cited.title, cited.answer, 0.99)]

    monkeypatch.setattr(faq, "search_faq", search)
    message = (await ask("注册账号怎么弄")).messages[0]
    assert message["response"] == "utter_faq_answer"
    assert message["faq_citation"] == "\n依据 GB/T 19001-2016（现行有效）"
    # an entry citing only laws (not in the standards table) cites nothing
    monkeypatch.setattr(self_service, "knowledge_now", lambda: SAMPLE)
    assert (await ask("注册账号怎么弄")).messages[0]["faq_citation"] == ""


# ── what the platform offers ─────────────────────────────────────────────────────────────


@pytest.mark.parametrize("text", ["你们能干啥", "平台能做什么", "你们平台是做什么的"])
async def test_what_the_platform_offers_comes_from_its_services(no_faq: None, text: str) -> None:
    message = (await ask(text)).messages[0]
    assert message["response"] == "utter_capabilities"
    lines = message["capability_domains"].splitlines()
    assert [line.split("：")[0] for line in lines] == [
        "· 计量", "· 标准化", "· 认证认可", "· 检验检测", "· 质量管理", "· 知识产权", "· 其他/综合"
    ]  # fmt: skip
    assert "计量器具强制检定办理指导" in lines[0]
    modes = message["capability_modes"]
    for service_id in ("5.3a", "5.3b", "5.3c", "5.3d", "5.2b4"):
        service = SAMPLE.get(service_id)
        assert service is not None and service.title in modes
    assert [b["title"] for b in message["buttons"]] == [
        "计量", "标准化", "认证认可", "检验检测", "质量管理", "知识产权"
    ]  # fmt: skip
    assert message["buttons"][0]["payload"] == "计量方面平台能提供哪些服务？"


async def test_a_withdrawn_service_is_not_offered(
    no_faq: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    gone = [e.model_copy(update={"status": "withdrawn"}) if e.id == "6.1.3" else e
            for e in SAMPLE.entries()]  # fmt: skip
    monkeypatch.setattr(self_service, "knowledge_now", lambda: KnowledgeBase.from_entries(gone))
    message = (await ask("你们能干啥")).messages[0]
    assert "计量器具强制检定办理指导" not in message["capability_domains"]


# ── the service manual (real index) ──────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("text", "service_id", "aspect"),
    [
        ("检测电线电缆要带什么材料", "6.4.2", "materials"),
        ("计量校准怎么办理", "6.1.2", "process"),
        ("认证需要什么条件", "6.3.1", "acceptance_conditions"),
    ],
)
async def test_the_manual_answers_from_the_service_fields(
    real_index: None, text: str, service_id: str, aspect: str
) -> None:
    message = (await ask(text)).messages[0]
    assert message["response"] == "utter_service_manual"
    service = SAMPLE.get(service_id)
    assert service is not None
    assert message["service_title"] == service.title
    assert message["service_commitment"] == service.commitment
    items: list[str] = getattr(service, aspect)
    assert all(f"{n}. {item}" in message["manual_sections"] for n, item in enumerate(items, 1))
    titles = [b["title"] for b in message["buttons"]]
    assert titles[0] == "登记这项需求"
    assert message["buttons"][0]["payload"] == f"我想办理{service.title}"
    assert len(titles) == 3  # register, and the two other parts of the manual
    cited = [s.code for s in service.sources if SAMPLE.standard(s.code)]
    assert message["service_citation"] == (f"\n依据 {cited[0]}（现行有效）" if cited else "")


async def test_a_clear_faq_beats_a_weak_service(real_index: None) -> None:
    message = (await ask("平台注册需要什么材料")).messages[0]
    assert message["response"] == "utter_faq_answer"
    assert "企业用户" in message["faq_question"] or "注册" in message["faq_question"]


async def test_inside_a_form_the_manual_offers_no_buttons(
    monkeypatch: pytest.MonkeyPatch, no_faq: None
) -> None:
    service = SAMPLE.get("6.4.2")
    assert service is not None

    def found(text: str) -> list[service_manual.ServiceHit]:
        return [service_manual.ServiceHit(service, 0.95)]  # type: ignore[arg-type]

    monkeypatch.setattr(service_manual, "_search_sync", found)
    message = (await ask("要带什么材料", active_loop="need_form")).messages[0]
    assert message["response"] == "utter_service_manual"
    assert "buttons" not in message or not message["buttons"]


# ── the welcome and 猜你想问 ─────────────────────────────────────────────────────────────


@pytest.fixture
def fresh_cache() -> Iterator[None]:
    welcome.clear_cache()
    yield
    welcome.clear_cache()


async def test_the_welcome_offers_the_main_actions_and_the_most_asked(
    fake_desk: FakeDesk, fresh_cache: None
) -> None:
    items = [
        {"faq_id": "faq-register-how", "question": "怎么在平台注册账号？", "conversations": 4},
        {"faq_id": "faq-x", "question": "检测报告多久出？", "conversations": 2},
    ]
    fake_desk.on("GET", "/api/knowledge/popular", {"days": 30, "items": items})
    dispatcher = CollectingDispatcher()
    await ActionWelcome().run(dispatcher, make_tracker(text="你好", intent="greet"), DOMAIN)
    assert [m["response"] for m in dispatcher.messages] == [
        "utter_core_greet",
        "utter_welcome_popular",
    ]
    main = DOMAIN["responses"]["utter_core_greet"][0]["buttons"]
    assert [b["title"] for b in main] == ["找机构/办需求", "查进度", "投诉", "问流程", "转人工"]
    popular = dispatcher.messages[1]["buttons"]
    assert [b["title"] for b in popular] == ["怎么在平台注册账号？", "检测报告多久出？"]
    assert popular[0]["payload"] == '/ask_faq{"faq_id":"faq-register-how"}'

    # kept for a minute: a second welcome asks the desk nothing
    await ActionWelcome().run(CollectingDispatcher(), make_tracker(intent="greet"), DOMAIN)
    assert sum(r.url.path == "/api/knowledge/popular" for r in fake_desk.requests) == 1


async def test_no_history_or_no_desk_means_no_guessing(
    fake_desk: FakeDesk, fresh_cache: None
) -> None:
    fake_desk.on("GET", "/api/knowledge/popular", {"days": 30, "items": []})
    dispatcher = CollectingDispatcher()
    await ActionWelcome().run(dispatcher, make_tracker(intent="greet"), DOMAIN)
    assert [m["response"] for m in dispatcher.messages] == ["utter_core_greet"]
    welcome.clear_cache()
    fake_desk.on("GET", "/api/knowledge/popular", lambda r: httpx.Response(503))
    dispatcher = CollectingDispatcher()
    await ActionWelcome().run(dispatcher, make_tracker(intent="greet"), DOMAIN)
    assert [m["response"] for m in dispatcher.messages] == ["utter_core_greet"]


async def test_a_quick_reply_asks_its_faq_and_the_answer_is_reported(
    fake_desk: FakeDesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_desk.on("POST", "/api/knowledge/answered", {"id": 1, "created": True}, status=201)
    entry = SAMPLE.get("faq-register-how")
    assert entry is not None
    monkeypatch.setattr(
        faq,
        "faq_by_id",
        lambda i: FaqHit(i, entry.title, entry.answer, 1.0),  # type: ignore[union-attr]
    )
    payload = welcome.ask_payload("faq-register-how")
    entities = [{"entity": "faq_id", "value": "faq-register-how"}]
    dispatcher = await ask(payload, entities=entities, message_id="m-7")
    assert dispatcher.messages[0]["response"] == "utter_faq_answer"
    assert dispatcher.messages[0]["faq_question"] == "怎么在平台注册账号？"
    reported = fake_desk.bodies("POST", "/api/knowledge/answered")
    assert reported == [
        {"conversation_id": "web:5f0c7a1e-test", "message_id": "m-7", "channel": "web",
         "faq_id": "faq-register-how"}
    ]  # fmt: skip
    assert json.loads(payload.removeprefix("/ask_faq")) == {"faq_id": "faq-register-how"}


async def test_the_ask_a_question_button_asks_what_the_question_is(no_faq: None) -> None:
    assert [m["response"] for m in (await ask("/ask_faq")).messages] == ["utter_faq_ask_what"]
