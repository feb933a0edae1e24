"""A demand's or complaint's news reaches the enterprise in its own channel (channels/
case_notices.py), and the case's timeline says how, or why not: the web page's stream, a WeChat
customer-service message inside the 48-hour window, a template message outside it."""

import secrets
import time
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import update

from channels.models import WeChatContact, utcnow
from desk.clock import today
from desk.complaints import service as complaints
from desk.complaints.schemas import ComplaintCreate
from desk.demands import service as demands
from desk.demands.schemas import DemandCreate
from tests.channels.conftest import Live, LiveFactory
from tests.channels.servers import wait_until
from tests.channels.test_web_stream import Stream

ADMIN = ("admin", "admin-pass-123")


def staff(live: Live) -> dict[str, str]:
    response = httpx.post(
        f"{live.url}/api/auth/login", json={"username": ADMIN[0], "password": ADMIN[1]}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def open_demand(live: Live, conversation_id: str) -> str:
    channel = "wechat" if conversation_id.startswith("wx:") else "web"
    data = DemandCreate(
        conversation_id=conversation_id,
        channel=channel,
        need_text="电线电缆检测",
        product="电线电缆",
        place="江阴市周庄镇",
        contact_name="张伟",
        contact_mobile="13912345678",
    )
    with live.session() as session:
        demand, _ = demands.create_demand(session, data=data, idempotency_key=None, today=today())
        return demand.number


def move(
    live: Live, headers: dict[str, str], number: str, kind: str = "demands", **body: Any
) -> None:
    response = httpx.post(f"{live.url}/api/{kind}/{number}/transitions", headers=headers, json=body)
    assert response.status_code == 200, response.text


def timeline(live: Live, headers: dict[str, str], number: str, kind: str = "demands") -> list[str]:
    response = httpx.get(f"{live.url}/api/desk/{kind}/{number}", headers=headers)
    assert response.status_code == 200, response.text
    return [s["note"] for s in response.json()["timeline"]]


def follower(live: Live) -> tuple[str, str]:
    user = "o" + secrets.token_urlsafe(20)
    live.greet(user)
    return user, f"wx:{user}"


def set_contact(live: Live, user: str, **values: Any) -> None:
    with live.session() as session:
        session.execute(update(WeChatContact).where(WeChatContact.openid == user).values(**values))
        session.commit()


def test_the_web_chat_receives_each_state_of_its_demand(live_any_db: LiveFactory) -> None:
    app = live_any_db()
    conversation = "web:notice" + secrets.token_hex(6)
    number = open_demand(app, conversation)
    headers = staff(app)
    stream = Stream(app, conversation, after=0)
    try:
        time.sleep(0.2)
        started = time.monotonic()
        move(app, headers, number, to="responded", note="内部备注：已电话联系")
        [shown] = stream.wait_for(1)
        assert time.monotonic() - started < 1.5  # woken, not only polled
    finally:
        stream.close()
    assert shown["sender"] == "system"
    assert shown["text"] == f"【质量门诊】您的需求（编号 {number}）进展更新：已响应。"
    assert "内部备注" not in shown["text"]  # staff notes stay in the desk
    history = httpx.get(
        f"{app.url}/api/chat/history", params={"conversation_id": conversation}
    ).json()["messages"]
    assert [m["text"] for m in history] == [shown["text"]]
    assert timeline(app, headers, number)[-1] == "已通过网页会话告知企业：“已响应”。"

    # the bot reads the progress without the desk's notes
    bot = {"Authorization": f"Bearer {app.settings.secret('service_token')}"}
    steps = httpx.get(
        f"{app.url}/api/demands/{number}/events",
        params={"conversation_id": conversation},
        headers=bot,
    ).json()
    assert [s["to_status"] for s in steps] == ["submitted", "responded"]


def test_wechat_inside_the_window_gets_a_customer_service_message(
    live_any_db: LiveFactory,
) -> None:
    app = live_any_db()
    user, conversation = follower(app)
    number = open_demand(app, conversation)
    headers = staff(app)
    move(app, headers, number, to="responded")
    words = f"【质量门诊】您的需求（编号 {number}）进展更新：已响应。"
    wait_until(lambda: words in app.wechat.texts(user))
    assert app.wechat.texts(user).count(words) == 1
    assert timeline(app, headers, number)[-1] == "已通过微信客服消息告知企业：“已响应”。"
    assert ("system", words) in app.transcript(conversation)


def test_wechat_outside_the_window_gets_a_template_message(live: LiveFactory) -> None:
    app = live(wechat_template_case="TPL-CASE")
    app.wechat.templates.add("TPL-CASE")
    user, conversation = follower(app)
    set_contact(app, user, last_contact_at=utcnow() - timedelta(hours=49))
    number = open_demand(app, conversation)
    headers = staff(app)
    move(app, headers, number, to="responded")
    [sent] = app.wechat.template_sent
    assert (sent["touser"], sent["template_id"]) == (user, "TPL-CASE")
    assert sent["data"]["keyword1"]["value"] == number
    assert sent["data"]["keyword2"]["value"] == "已响应"
    assert timeline(app, headers, number)[-1] == "已通过微信模板消息告知企业：“已响应”。"
    time.sleep(0.5)  # a few outbox rounds: no customer-service message past the window
    assert app.wechat.texts(user) == []


def test_wechat_outside_the_window_without_a_template_is_kept_and_recorded(
    live: LiveFactory,
) -> None:
    app = live()
    user, conversation = follower(app)
    set_contact(app, user, last_contact_at=utcnow() - timedelta(hours=49))
    with app.session() as session:
        complaint, _, _ = complaints.create_complaint(
            session,
            data=ComplaintCreate(
                conversation_id=conversation,
                institution_name="某检测公司",
                complaint_type="attitude",
                content="态度差",
                contact_mobile="13800001111",
            ),
            idempotency_key=None,
            today=today(),
            actor="bot",
            institutions=[],
        )
        number = complaint.number
    headers = staff(app)
    move(app, headers, number, "complaints", to="investigating")
    assert timeline(app, headers, number, "complaints")[-1] == (
        "未能告知企业：用户最后一次发消息已超过48小时，客服消息窗口已关闭；"
        "未配置进展通知模板消息（QCLINIC_WECHAT_TEMPLATE_CASE）；"
        "消息已保留，将在企业下次发来消息时显示。"
    )
    assert app.wechat.template_sent == [] and app.wechat.texts(user) == []
