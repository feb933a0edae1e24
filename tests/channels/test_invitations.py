"""Reached after the conversation (issue 14): a completed demand invites the enterprise to
evaluate it and a resolved complaint asks whether the outcome satisfies, in its own channel —
buttons on the web page, numbered replies on WeChat (encrypted callbacks, the API's stand-in);
outside the 48-hour window a template message (QCLINIC_WECHAT_TEMPLATE_EVALUATION /
_COMPLAINT); a notice that cannot be sent any way is kept, shown at the next contact once, and
the case's timeline says how it went."""

import json
import secrets
import time
from datetime import timedelta

import httpx
from sqlalchemy import select

from channels.kept_notices import KeptNotice
from channels.models import utcnow
from tests.channels.conftest import Live, LiveFactory
from tests.channels.servers import wait_until
from tests.channels.test_case_notices import (
    follower,
    move,
    open_demand,
    set_contact,
    staff,
    timeline,
)
from tests.channels.test_web_stream import Stream
from tests.channels.wechat_calls import text_xml


def complete(app: Live, headers: dict[str, str], number: str) -> None:
    for to, extra in [
        ("responded", {}),
        ("recommended", {"institution_ids": ["inst-yuancheng-cable-lab"]}),
        ("matched", {"chosen_institution_id": "inst-yuancheng-cable-lab"}),
        ("in_service", {}),
        ("completed", {}),
    ]:
        move(app, headers, number, to=to, **extra)


def payload(number: str, intent: str = "give_feedback") -> str:
    return f"/{intent}" + json.dumps({"case_number": number})


def kept(app: Live, number: str) -> list[KeptNotice]:
    with app.session() as session:
        return list(session.scalars(select(KeptNotice).where(KeptNotice.number == number)))


def test_the_web_page_gets_the_invitation_with_its_two_buttons(live_any_db: LiveFactory) -> None:
    app = live_any_db()
    conversation = "web:invite" + secrets.token_hex(6)
    number = open_demand(app, conversation)
    headers = staff(app)
    complete(app, headers, number)
    assert timeline(app, headers, number)[-1] == "已通过网页会话告知企业：“已完成”。"
    stream = Stream(app, conversation, after=0)
    try:
        shown = stream.wait_for(5)
    finally:
        stream.close()
    invitation = shown[-1]
    assert invitation["sender"] == "system"
    assert invitation["text"].startswith(f"【质量门诊】您的需求（编号 {number}）进展更新：已完成。")
    assert "评价" in invitation["text"]
    assert invitation["buttons"] == [
        {"title": "现在评价", "payload": payload(number)},
        {"title": "以后再说", "payload": "/feedback_later"},
    ]
    assert shown[0]["buttons"] == []  # an ordinary status change asks nothing


def test_wechat_inside_the_window_numbers_the_answers_and_a_digit_answers(
    live: LiveFactory,
) -> None:
    app = live()
    user, conversation = follower(app)
    number = open_demand(app, conversation)
    headers = staff(app)
    complete(app, headers, number)
    wait_until(lambda: any("已完成" in t for t in app.wechat.texts(user)))
    [invitation] = [t for t in app.wechat.texts(user) if "已完成" in t]
    assert "1. 现在评价\n2. 以后再说" in invitation and "回复数字" in invitation
    assert timeline(app, headers, number)[-1] == "已通过微信客服消息告知企业：“已完成”。"

    app.platform.say(text_xml(user, "1"))  # the digit answers the invitation, not older options
    wait_until(lambda: payload(number) in app.rasa.messages(conversation))


def test_wechat_outside_the_window_gets_the_evaluation_template(live: LiveFactory) -> None:
    app = live(wechat_template_evaluation="TPL-EVAL", wechat_template_case="TPL-CASE")
    app.wechat.templates.update({"TPL-EVAL", "TPL-CASE"})
    user, conversation = follower(app)
    number = open_demand(app, conversation)
    headers = staff(app)
    set_contact(app, user, last_contact_at=utcnow() - timedelta(hours=49))
    complete(app, headers, number)
    ids = [sent["template_id"] for sent in app.wechat.template_sent]
    assert ids == ["TPL-CASE"] * 4 + ["TPL-EVAL"]
    invitation = app.wechat.template_sent[-1]
    assert invitation["touser"] == user
    assert invitation["data"]["keyword1"]["value"] == number
    assert "评价" in invitation["data"]["remark"]["value"]
    assert timeline(app, headers, number)[-1] == "已通过微信模板消息告知企业：“已完成”。"
    assert kept(app, number) == []

    # the follower answers the template with a digit: the invitation is answered
    app.platform.say(text_xml(user, "1"))
    wait_until(lambda: payload(number) in app.rasa.messages(conversation))


def test_unconfigured_template_keeps_the_notice_for_the_next_contact(
    live_any_db: LiveFactory,
) -> None:
    app = live_any_db()  # no template of any kind
    user, conversation = follower(app)
    number = open_demand(app, conversation)
    headers = staff(app)
    set_contact(app, user, last_contact_at=utcnow() - timedelta(hours=49))
    complete(app, headers, number)
    assert timeline(app, headers, number)[-1] == (
        "未能告知企业：用户最后一次发消息已超过48小时，客服消息窗口已关闭；"
        "未配置评价邀请模板消息（QCLINIC_WECHAT_TEMPLATE_EVALUATION）；"
        "消息已保留，将在企业下次发来消息时显示。"
    )
    time.sleep(0.5)  # a few outbox rounds: nothing goes out past the window
    assert app.wechat.texts(user) == [] and app.wechat.template_sent == []
    assert [k.status_label for k in kept(app, number)] == [
        "已响应",
        "已推荐",
        "已对接",
        "服务中",
        "已完成",
    ]
    assert all(k.shown_at is None for k in kept(app, number))

    app.platform.say(text_xml(user, "在吗"))  # the next contact
    wait_until(lambda: sum("已完成" in t for t in app.wechat.texts(user)) == 1)
    sent = "\n".join(app.wechat.texts(user))
    assert "已响应" in sent and "1. 现在评价" in sent and "为您保留" in sent
    assert all(k.shown_at is not None and k.shown_in == conversation for k in kept(app, number))
    assert timeline(app, headers, number)[-1] == (
        "已在企业再次发来消息时告知：“已完成”（此前未能送达）。"
    )
    app.platform.say(text_xml(user, "谢谢"))
    time.sleep(0.5)
    assert sum("已完成" in t for t in app.wechat.texts(user)) == 1  # shown once


def test_a_refused_template_keeps_the_complaint_outcome(live: LiveFactory) -> None:
    app = live(wechat_template_complaint="TPL-GONE")  # the account no longer has it
    user, conversation = follower(app)
    headers = staff(app)
    number = file_complaint(app, conversation)
    for to in ("investigating", "forwarded"):
        move(app, headers, number, "complaints", to=to)
    set_contact(app, user, last_contact_at=utcnow() - timedelta(hours=49))
    move(app, headers, number, "complaints", to="resolved", resolution="机构已退还多收的费用")
    note = timeline(app, headers, number, "complaints")[-1]
    assert note.startswith("未能告知企业：微信模板消息发送失败") and "消息已保留" in note
    [outcome] = [k for k in kept(app, number) if k.status_label == "已处理完毕"]
    assert "机构已退还多收的费用" in outcome.text and "您对处理结果是否满意？" in outcome.text
    assert [b["title"] for b in outcome.buttons] == ["满意", "不满意"]

    app.platform.say(text_xml(user, "你好"))
    wait_until(lambda: any("是否满意" in t for t in app.wechat.texts(user)))
    assert "1. 满意\n2. 不满意" in "\n".join(app.wechat.texts(user))


def file_complaint(app: Live, conversation: str) -> str:
    from desk.clock import today
    from desk.complaints import service as complaints
    from desk.complaints.schemas import ComplaintCreate

    with app.session() as session:
        complaint, _, _ = complaints.create_complaint(
            session,
            data=ComplaintCreate(
                conversation_id=conversation,
                institution_name="某检测公司",
                complaint_type="fees",
                content="多收了检测费",
                contact_mobile="13800001111",
            ),
            idempotency_key=None,
            today=today(),
            actor="bot",
            institutions=[],
        )
        return complaint.number


def test_a_kept_notice_is_shown_on_the_web_when_the_customer_writes_there_first(
    live_any_db: LiveFactory,
) -> None:
    from desk.customers.models import Customer, CustomerConversation
    from tests.channels.test_web_stream import post

    app = live_any_db()
    user, conversation = follower(app)
    web = "web:kept" + secrets.token_hex(6)
    with app.session() as session:
        customer = Customer(kind="enterprise", name="江阴华达机械有限公司", created_by="test")
        session.add(customer)
        session.flush()
        for linked in (conversation, web):
            session.add(
                CustomerConversation(
                    conversation_id=linked, customer_id=customer.id, linked_by="test"
                )
            )
        session.commit()
    number = file_complaint(app, conversation)
    headers = staff(app)
    for to in ("investigating", "forwarded"):
        move(app, headers, number, "complaints", to=to)
    set_contact(app, user, last_contact_at=utcnow() - timedelta(hours=49))
    move(app, headers, number, "complaints", to="resolved", resolution="机构已退还多收的费用")
    assert "消息已保留" in timeline(app, headers, number, "complaints")[-1]

    post(app, web, "你好")  # the next contact is on the web page
    history = httpx.get(f"{app.url}/api/chat/history", params={"conversation_id": web}).json()
    [outcome] = [m for m in history["messages"] if "是否满意" in m["text"]]
    assert outcome["sender"] == "system"
    assert [b["title"] for b in outcome["buttons"]] == ["满意", "不满意"]
    assert all(k.shown_in == web for k in kept(app, number))
    assert timeline(app, headers, number, "complaints")[-1].startswith("已在企业再次发来消息时告知")
    time.sleep(0.5)
    assert not any("是否满意" in t for t in app.wechat.texts(user))  # shown once, on the web
