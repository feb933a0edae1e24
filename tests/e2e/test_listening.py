"""Forms that listen (issue 14, "Conversation that listens"), through POST /api/chat/messages on
the real stack (Rasa, the action server, the desk on SQLite), each case checked against the row
the desk wrote: every detail of every message is kept, whichever question is open; a value is
taken only when it is that kind of value; a question in passing is answered and the form goes on;
a notice already shown is not repeated word for word."""

from typing import Any

from sqlalchemy import select

from app.settings import AppSettings
from app.stack import Stack
from desk.complaints.models import Complaint
from desk.db import get_sessionmaker
from desk.demands.models import Demand

from .conftest import Chat

NOTICE = "【隐私提示】"


def _text(messages: list[dict]) -> str:  # type: ignore[type-arg]
    return "\n".join(m.get("text") or "" for m in messages)


def _rows(settings: AppSettings, model: Any, conversation_id: str) -> list[Any]:
    assert settings.database_url
    with get_sessionmaker(settings.database_url)() as session:
        query = select(model).where(model.conversation_id == conversation_id)
        return list(session.scalars(query))


def _requested(chat: Chat) -> str | None:
    slot: str | None = chat.tracker()["slots"].get("requested_slot")
    return slot


def test_a_whole_need_in_one_message_fills_every_detail(stack: Stack, chat: Chat) -> None:
    first = _text(
        chat.say(
            "江阴华达机械有限公司，联系人王明13912345678，我们有50根电线电缆要测导体电阻，"
            "在周庄镇，两周内要结果，送样"
        )
    )
    assert "请问您需要办理什么服务" not in first
    assert NOTICE in first  # only what is missing: the consent for the contact given
    assert _requested(chat) == "privacy_consent"
    summary = _text(chat.say("同意"))
    assert "请核对您的需求" in summary and "推荐" in summary
    assert _requested(chat) == "need_decision"
    done = _text(chat.say("好的"))
    [demand] = _rows(stack.settings, Demand, chat.conversation_id)
    assert demand.number in done
    assert (demand.product, demand.quantity, demand.place, demand.wanted_date) == (
        "电线电缆",
        "50根",
        "周庄镇",
        "两周内",
    )
    assert (demand.company_name, demand.contact_name, demand.contact_mobile) == (
        "江阴华达机械有限公司",
        "王明",
        "13912345678",
    )
    assert demand.service_mode == "送样"
    assert "导体电阻" in demand.need_text


def test_a_quantity_for_the_name_is_kept_and_a_date_word_is_never_a_name(
    stack: Stack, chat: Chat
) -> None:
    chat.say("我们有一批电线电缆需要做检测")
    asked = _text(chat.say("江阴市周庄镇"))
    assert NOTICE in asked and _requested(chat) == "contact_name"
    again = _text(chat.say("20块"))
    assert "数量 20块" in again
    assert NOTICE not in again  # the notice is not repeated word for word
    assert "联系人" in again and _requested(chat) == "contact_name"
    later = _text(chat.say("下周"))
    assert "时间要求 下周" in later and _requested(chat) == "contact_name"
    assert chat.tracker()["slots"]["contact_name"] is None
    chat.say("张伟")
    assert _requested(chat) == "contact_mobile"
    chat.say("13912345678")
    assert _requested(chat) == "need_decision"
    chat.say("好的")
    [demand] = _rows(stack.settings, Demand, chat.conversation_id)
    assert (demand.contact_name, demand.contact_mobile) == ("张伟", "13912345678")
    assert (demand.quantity, demand.wanted_date, demand.place) == ("20块", "下周", "江阴市周庄镇")


def test_a_complaints_phone_given_early_is_the_mobile_not_the_request(
    stack: Stack, chat: Chat
) -> None:
    chat.say("我要投诉")
    chat.say("远澄线缆")
    chat.say("2")
    chat.say("送检的电缆样品两周了还没出报告")
    early = _text(chat.say("张伟 13912345678"))
    assert "已记下您的联系方式" in early
    assert _requested(chat) == "complaint_request"  # what they want is asked again
    replies = [early]
    replies.append(_text(chat.say("希望尽快出报告")))
    assert NOTICE in replies[-1] and "139****5678" in replies[-1]
    assert _requested(chat) == "complaint_consent"
    replies.append(_text(chat.say("1")))
    assert "请核对投诉信息" in replies[-1]
    replies.append(_text(chat.say("1")))
    assert not any("手机号码格式好像不对" in reply for reply in replies)
    [complaint] = _rows(stack.settings, Complaint, chat.conversation_id)
    assert complaint.number in replies[-1]
    assert complaint.demand == "希望尽快出报告"
    assert (complaint.contact_name, complaint.contact_mobile) == ("张伟", "13912345678")


def test_a_question_in_passing_is_answered_and_the_need_goes_on(stack: Stack, chat: Chat) -> None:
    first = _text(chat.say("我们是做电机的，想找家机构做能效检测，顺便问下要准备什么材料"))
    assert "顺便回答您的问题" in first and "准备" in first
    assert _requested(chat) == "need_place"
    assert chat.tracker()["slots"]["need_product"] == "电机"
    chat.say("无锡市新吴区")
    chat.say("李娜")
    chat.say("13800001111")
    chat.say("好的")
    [demand] = _rows(stack.settings, Demand, chat.conversation_id)
    assert (demand.product, demand.place, demand.contact_name) == ("电机", "无锡市新吴区", "李娜")
