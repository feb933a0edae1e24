"""A need stated in the web chat becomes a demand on the desk (issue: walking skeleton)."""

from sqlalchemy import select

from app.settings import AppSettings
from app.stack import Stack
from desk.db import get_sessionmaker
from desk.demands.models import Demand

from .conftest import Chat


def _texts(messages: list[dict]) -> str:  # type: ignore[type-arg]
    return "\n".join(m.get("text") or "" for m in messages)


def _demands(settings: AppSettings, conversation_id: str) -> list[Demand]:
    assert settings.database_url
    with get_sessionmaker(settings.database_url)() as session:
        query = select(Demand).where(Demand.conversation_id == conversation_id)
        return list(session.scalars(query))


def _requested_slot(chat: Chat) -> str | None:
    slot: str | None = chat.tracker()["slots"].get("requested_slot")
    return slot


def test_cable_testing_need_becomes_a_demand(stack: Stack, chat: Chat) -> None:
    chat.say("我们有一批电线电缆需要做检测")
    tracker = chat.tracker()
    assert tracker["latest_message"]["intent"]["name"] == "request_service"
    assert tracker["slots"]["need_product"] == "电线电缆"
    assert _requested_slot(chat) == "need_place"

    chat.say("江阴市周庄镇")
    assert _requested_slot(chat) == "contact_name"
    chat.say("张伟")
    assert _requested_slot(chat) == "contact_mobile"

    invalid = chat.say("12345")
    assert "手机" in _texts(invalid)
    assert _requested_slot(chat) == "contact_mobile"
    assert chat.tracker()["slots"]["contact_mobile"] is None

    offer = chat.say("13912345678")
    offer_text = _texts(offer)
    slots = chat.tracker()["slots"]
    assert slots["need_service_ids"], offer_text
    assert slots["need_institution_ids"], offer_text
    assert any(sid.startswith("6.4.") for sid in slots["need_service_ids"]), slots
    assert "推荐" in offer_text
    buttons = [b for m in offer for b in m.get("buttons") or []]
    assert any(b["payload"] == "/affirm" for b in buttons), offer
    assert _demands(stack.settings, chat.conversation_id) == []  # nothing before the yes

    done = _texts(chat.say("好的"))
    [demand] = _demands(stack.settings, chat.conversation_id)
    assert demand.number in done
    assert "1个工作日" in done and "3个工作日" in done
    assert demand.respond_due.isoformat() in done
    assert (demand.product, demand.place, demand.contact_name, demand.contact_mobile) == (
        "电线电缆",
        "江阴市周庄镇",
        "张伟",
        "13912345678",
    )
    assert demand.need_text == "我们有一批电线电缆需要做检测"
    assert demand.service_ids == slots["need_service_ids"]
    assert demand.institution_ids == slots["need_institution_ids"]
    assert (demand.channel, demand.recommended_by, demand.status) == ("web", "bot", "submitted")

    # The transcript keeps both sides of the conversation.
    import httpx

    history = httpx.get(
        f"{stack.settings.desk_url}/api/chat/history",
        params={"conversation_id": chat.conversation_id},
    ).json()["messages"]
    assert history[0] == {**history[0], "sender": "user", "text": "我们有一批电线电缆需要做检测"}
    assert any(m["sender"] == "bot" and demand.number in m["text"] for m in history)


def test_declining_opens_nothing(stack: Stack, chat: Chat) -> None:
    for text in ["我们厂的压力表需要校准", "无锡市新吴区", "李娜", "13800001111"]:
        chat.say(text)
    assert chat.tracker()["slots"]["need_service_ids"]
    chat.say("不用了")
    assert _demands(stack.settings, chat.conversation_id) == []
