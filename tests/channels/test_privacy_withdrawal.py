"""An enterprise withdraws its consent (PIPL Art. 47) on the web page, on WeChat by keyword, or
by phone/letter recorded by staff: each way erases its contact details from the desk's records,
the conversation's transcript and Rasa's tracker events, on SQLite and PostgreSQL, and says so
in Chinese; the case numbers and contents stay; an audit entry says who and when without the
data; contact details are refused afterwards until the enterprise agrees again."""

import json
import secrets
import time
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select

from channels.models import utcnow
from channels.privacy.erase import tracker_engine
from desk.audit import AuditEntry
from desk.clock import today
from desk.complaints import service as complaints
from desk.complaints.models import Complaint
from desk.complaints.schemas import ComplaintCreate
from desk.customers import service as customers
from desk.customers.models import Consent, Customer
from desk.customers.schemas import CustomerCreate
from desk.demands import service as demands
from desk.demands.models import Demand
from desk.demands.schemas import DemandCreate
from tests.channels.conftest import Live, LiveFactory
from tests.channels.privacy_data import (
    ID_NUMBER,
    MOBILE,
    NAME,
    create_events_table,
    events_text,
    need_events,
    stored_events,
    transcript_text,
    write_events,
    write_transcript,
)
from tests.channels.test_case_notices import staff
from tests.channels.wechat_calls import text_xml

OTHER_MOBILE = "13812345678"
CREDIT_CODE = "91320281MA1W2K3L41"


def seed(live: Live, conversation_id: str) -> dict[str, str]:
    """A conversation that gave a contact: a demand, a complaint, a registration, a transcript,
    the tracker; and another enterprise's demand that must stay as it is."""
    channel = "wechat" if conversation_id.startswith("wx:") else "web"
    with live.session() as session:
        write_transcript(session, conversation_id)
        demand, _ = demands.create_demand(
            session,
            data=DemandCreate(
                conversation_id=conversation_id,
                channel=channel,
                need_text="电线电缆检测",
                product="电线电缆",
                place="江阴市周庄镇",
                contact_name=NAME,
                contact_mobile=MOBILE,
            ),
            idempotency_key=None,
            today=today(),
        )
        complaint, _, _ = complaints.create_complaint(
            session,
            data=ComplaintCreate(
                conversation_id=conversation_id,
                institution_name="某检测公司",
                complaint_type="fees",
                content="收费与报价不一致",
                contact_name=NAME,
                contact_mobile=MOBILE,
            ),
            idempotency_key=None,
            today=today(),
            actor="bot",
        )
        customers.create_customer(
            session,
            data=CustomerCreate(
                kind="enterprise",
                name="江阴某电缆有限公司",
                conversation_id=conversation_id,
                contact_name=NAME,
                mobile=MOBILE,
                credit_code=CREDIT_CODE,
            ),
            actor="bot",
        )
        other, _ = demands.create_demand(
            session,
            data=DemandCreate(
                conversation_id="web:someone-else-01",
                channel="web",
                need_text="压力表校准",
                product="压力表",
                place="江阴市",
                contact_name="李娜",
                contact_mobile=OTHER_MOBILE,
            ),
            idempotency_key=None,
            today=today(),
        )
        session.add(
            Consent(
                conversation_id=conversation_id, notice_version="2026-11", agreed=True, actor="bot"
            )
        )
        session.commit()
    assert live.settings.database_url
    tracker = tracker_engine(live.settings.database_url)
    create_events_table(tracker)
    write_events(tracker, conversation_id, need_events(time.time()))
    return {"demand": demand.number, "complaint": complaint.number, "other": other.number}


def assert_erased(live: Live, conversation_id: str, numbers: dict[str, str], via: str) -> None:
    with live.session() as session:
        demand = session.scalars(select(Demand).where(Demand.number == numbers["demand"])).one()
        assert (demand.contact_name, demand.contact_mobile) == ("[已删除]", "")
        assert (demand.need_text, demand.product, demand.place) == (
            "电线电缆检测",
            "电线电缆",
            "江阴市周庄镇",
        )
        complaint = session.scalars(
            select(Complaint).where(Complaint.number == numbers["complaint"])
        ).one()
        assert (complaint.contact_name, complaint.contact_mobile) == ("[已删除]", None)
        assert complaint.content == "收费与报价不一致"
        customer = session.scalars(
            select(Customer).where(Customer.name == "江阴某电缆有限公司")
        ).one()
        assert (customer.contact_name, customer.mobile) == (None, None)
        other = session.scalars(select(Demand).where(Demand.number == numbers["other"])).one()
        assert (other.contact_name, other.contact_mobile) == ("李娜", OTHER_MOBILE)
        text = transcript_text(session, conversation_id)
        for datum in (MOBILE, NAME, ID_NUMBER):
            assert datum not in text
        assert "我们有一批电线电缆需要检测" in text
        consent = session.scalars(
            select(Consent)
            .where(Consent.conversation_id == conversation_id)
            .order_by(Consent.id.desc())
        ).first()
        assert consent is not None and (consent.agreed, consent.notice_version) == (
            False,
            "withdrawn",
        )
        [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "privacy.withdraw"))
        assert entry.details["via"] == via and entry.details["demands"] == 1
        assert entry.details["complaints"] == 1 and entry.details["customers"] == 1
        assert MOBILE not in json.dumps(entry.details, ensure_ascii=False)
        assert NAME not in json.dumps(entry.details, ensure_ascii=False)
    assert live.settings.database_url
    tracker = tracker_engine(live.settings.database_url)
    events = events_text(tracker, conversation_id)
    for datum in (MOBILE, NAME, ID_NUMBER):
        assert datum not in events
    slots = {
        e["name"]: e["value"]
        for _, e in stored_events(tracker, conversation_id)
        if e["event"] == "slot"
    }
    assert slots["contact_mobile"] is None and slots["privacy_consent"] is None
    assert slots["need_product"] == "电线电缆"
    # contact details are refused from this conversation until it agrees again
    bot = {"Authorization": f"Bearer {live.settings.secret('service_token')}"}
    again = httpx.post(
        f"{live.url}/api/demands",
        headers=bot,
        json={
            "conversation_id": conversation_id,
            "need_text": "电线电缆检测",
            "product": "电线电缆",
            "place": "江阴市",
            "contact_name": NAME,
            "contact_mobile": MOBILE,
        },
    )
    assert again.status_code == 422 and again.json()["detail"]["code"] == "consent_required"


def test_the_web_page_withdraws_consent(live_any_db: LiveFactory) -> None:
    live = live_any_db()
    conversation = "web:withdraw" + secrets.token_hex(6)
    numbers = seed(live, conversation)
    response = httpx.post(
        f"{live.url}/api/chat/privacy/withdraw", json={"conversation_id": conversation}
    )
    assert response.status_code == 200, response.text
    [told] = response.json()["messages"]
    assert told["sender"] == "system" and told["text"].startswith("已为您撤回授权。")
    assert numbers["demand"] in told["text"] and numbers["complaint"] in told["text"]
    assert "注册信息中的联系人和手机号码" in told["text"]
    assert "已保留：需求和投诉的编号、办理内容和进度" in told["text"]
    assert_erased(live, conversation, numbers, "web")
    history = httpx.get(
        f"{live.url}/api/chat/history", params={"conversation_id": conversation}
    ).json()["messages"]
    assert history[-1]["text"] == told["text"] and MOBILE not in json.dumps(history)


def test_a_bad_conversation_id_is_refused_in_chinese(live: LiveFactory) -> None:
    app = live()
    response = httpx.post(f"{app.url}/api/chat/privacy/withdraw", json={"conversation_id": "x"})
    assert response.status_code == 422
    assert response.json()["detail"]["message"] == "会话编号格式不正确"


def test_wechat_withdraws_by_keyword_and_a_numbered_confirmation(live_any_db: LiveFactory) -> None:
    live = live_any_db()
    user = "o" + secrets.token_urlsafe(20)
    conversation = f"wx:{user}"
    numbers = seed(live, conversation)
    asked = live.platform.say(text_xml(user, "撤回授权"))
    assert asked is not None and asked.startswith("您要撤回对隐私告知的授权吗？")
    assert "1. 确认撤回" in asked and "2. 暂不撤回" in asked
    confirm = text_xml(user, "1")
    done = live.platform.say(confirm)
    assert done is not None and done.startswith("已为您撤回授权。"), done
    assert live.rasa.messages(conversation) == []  # answered without the bot (no NLU)
    live.platform.post(confirm)  # WeChat's retry of the same message: not withdrawn twice
    assert_erased(live, conversation, numbers, "wechat")


def test_wechat_keeps_consent_when_the_enterprise_says_no(live: LiveFactory) -> None:
    app = live()
    user = "o" + secrets.token_urlsafe(20)
    seed(app, f"wx:{user}")
    app.platform.say(text_xml(user, "撤回授权"))
    assert app.platform.say(text_xml(user, "2")) == "好的，授权保持不变。"
    assert app.platform.say(text_xml(user, "你好")) == "收到：你好"  # the bot again
    with app.session() as session:
        assert MOBILE in transcript_text(session, f"wx:{user}")
        assert not list(
            session.scalars(select(AuditEntry).where(AuditEntry.action == "privacy.withdraw"))
        )


def test_staff_record_a_withdrawal_received_by_phone(live_any_db: LiveFactory) -> None:
    live = live_any_db()
    conversation = "web:byphone" + secrets.token_hex(6)
    numbers = seed(live, conversation)
    headers = staff(live)
    body: dict[str, Any] = {"received_via": "phone", "number": numbers["demand"]}
    refused = httpx.post(f"{live.url}/api/privacy/withdrawals", json=body)
    assert refused.status_code == 401
    bot = {"Authorization": f"Bearer {live.settings.secret('service_token')}"}
    assert (
        httpx.post(f"{live.url}/api/privacy/withdrawals", json=body, headers=bot).status_code == 403
    )
    response = httpx.post(f"{live.url}/api/privacy/withdrawals", json=body, headers=headers)
    assert response.status_code == 201, response.text
    result = response.json()
    assert result["demands"] == [numbers["demand"]] and result["complaints"] == [
        numbers["complaint"]
    ]
    assert result["transcript_rows"] == 4 and result["tracker_events"] > 0
    assert_erased(live, conversation, numbers, "phone")
    with live.session() as session:
        [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "privacy.withdraw"))
        assert entry.actor == "admin" and entry.subject == numbers["demand"] and entry.at
    unknown = httpx.post(
        f"{live.url}/api/privacy/withdrawals",
        json={"received_via": "letter", "number": "XQ20990101-0001"},
        headers=headers,
    )
    assert unknown.status_code == 404
    assert unknown.json()["detail"]["message"] == "未找到编号为 XQ20990101-0001 的需求或投诉。"
    nothing = httpx.post(
        f"{live.url}/api/privacy/withdrawals", json={"received_via": "letter"}, headers=headers
    )
    assert nothing.status_code == 422


def test_the_keyword_in_the_web_chat_asks_then_withdraws(live: LiveFactory) -> None:
    app = live()
    conversation = "web:keyword" + secrets.token_hex(6)
    seed(app, conversation)
    send = f"{app.url}/api/chat/messages"
    asked = httpx.post(send, json={"conversation_id": conversation, "text": "撤回授权"}).json()
    [question] = asked["messages"]
    assert [b["title"] for b in question["buttons"]] == ["确认撤回", "暂不撤回"]
    confirm = question["buttons"][0]
    done = httpx.post(
        send,
        json={
            "conversation_id": conversation,
            "text": confirm["payload"],
            "display": confirm["title"],
            "message_id": "confirm-" + secrets.token_hex(4),
        },
    ).json()
    assert done["messages"][0]["text"].startswith("已为您撤回授权。")
    assert app.rasa.messages(conversation) == []
    with app.session() as session:
        assert MOBILE not in transcript_text(session, conversation)
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "privacy.withdraw"))
        assert [(e.actor, e.subject, e.details["via"]) for e in entries] == [
            ("enterprise", conversation, "web")
        ]


def test_after_a_withdrawal_no_template_message_is_pushed(live: LiveFactory) -> None:
    from tests.channels.test_case_notices import move, set_contact, timeline

    app = live(wechat_template_case="TPL-CASE")
    app.wechat.templates.add("TPL-CASE")
    user = "o" + secrets.token_urlsafe(20)
    numbers = seed(app, f"wx:{user}")
    app.platform.say(text_xml(user, "撤回授权"))
    app.platform.say(text_xml(user, "1"))
    set_contact(app, user, last_contact_at=utcnow() - timedelta(hours=49))
    headers = staff(app)
    move(app, headers, numbers["demand"], to="responded")
    assert app.wechat.template_sent == []
    assert timeline(app, headers, numbers["demand"])[-1] == (
        "未能告知企业：企业已撤回授权，不再主动发送模板消息；消息已保留，将在企业下次发来消息时显示。"
    )
    move(app, headers, numbers["other"], to="responded")  # another enterprise: told as before


def test_a_case_from_a_call_after_a_withdrawal_is_not_to_be_phoned(live: LiveFactory) -> None:
    from tests.channels.test_case_notices import move, timeline

    app = live()
    with app.session() as session:
        demand, _ = demands.create_demand(
            session,
            data=DemandCreate(
                conversation_id="web:entered-by-phone",
                channel="web",
                need_text="压力表校准",
                product="压力表",
                place="江阴市",
                contact_name=NAME,
                contact_mobile=MOBILE,
            ),
            idempotency_key=None,
            today=today(),
        )
        demand.conversation_id, demand.channel = None, "phone"
        session.commit()
        number = demand.number
    headers = staff(app)
    response = httpx.post(
        f"{app.url}/api/privacy/withdrawals",
        json={"received_via": "letter", "number": number},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["conversations"] == 0 and response.json()["demands"] == [number]
    move(app, headers, number, to="responded")
    assert timeline(app, headers, number)[-1] == (
        "企业的联系方式已删除（撤回授权或超过保存期限），未告知企业"
    )
    shown = httpx.get(f"{app.url}/api/desk/demands/{number}", headers=headers).json()
    assert shown["demand"]["contact_name"] == "[已删除]"
    assert shown["demand"]["contact_mobile"] == "" and MOBILE not in json.dumps(shown)
