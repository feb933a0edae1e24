"""The name change of §7.1.1.6 in the web chat, on the real stack (Rasa, the action server, the
database): an approved enterprise tells the bot its name changed; the bot asks the new name, the
day it changed and the new 营业执照 (the chat's upload API, as the upload button sends it); the
name-change review opens (3 working days) and the name stays until staff approve, then the chat
is told. A change older than one month is refused at once, before anything is uploaded, with the
way forward; nothing is written for it.
"""

import secrets
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.stack import Stack
from desk.calendar.service import load_calendar
from desk.clock import now, today
from desk.customers import reviews as reviews_service
from desk.customers.models import Customer, CustomerReview
from desk.uploads.models import Document
from tests.channels.servers import wait_until
from tests.e2e.conftest import Chat, on_both_databases
from tests.e2e.registrations import registered
from tests.e2e.registrations import sessions as _sessions
from tests.e2e.test_staff_desk import _png

OLD_NAME = "江阴远澄线缆有限公司"
NEW_NAME = "江苏远澄电缆科技有限公司"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stack(request: pytest.FixtureRequest, stack: Stack) -> Stack:
    """The name change runs on the SQLite stack and again on the PostgreSQL one."""
    return on_both_databases(request, stack)


def _approved_enterprise(stack: Stack, conversation_id: str) -> int:
    """An enterprise registered and approved earlier, linked to this web conversation."""
    with _sessions(stack)() as session:
        customer_id, review = registered(
            session, stack, conversation_id=conversation_id, name=OLD_NAME, contact_name="张伟"
        )
        reviews_service.decide(
            session,
            review_id=review.id,
            decision="approved",
            reason="",
            actor="e2e",
            moment=now(),
        )
        return customer_id


def _texts(messages: list[dict[str, Any]]) -> str:
    return "\n".join(str(m.get("text") or "") for m in messages)


def _upload(stack: Stack, chat: Chat, name: str, content: bytes, message_id: str) -> Any:
    response = httpx.post(
        f"{stack.settings.desk_url}/api/chat/uploads",
        data={"conversation_id": chat.conversation_id, "message_id": message_id},
        files={"file": (name, content, "image/png")},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return response.json()


def _rows(stack: Stack, model: Any, **where: Any) -> list[Any]:
    with _sessions(stack)() as session:
        query = select(model).where(*(getattr(model, k) == v for k, v in where.items()))
        return list(session.scalars(query.order_by(*model.__table__.primary_key.columns)))


def test_an_enterprise_changes_its_name_in_the_chat(stack: Stack, chat: Chat) -> None:
    customer_id = _approved_enterprise(stack, chat.conversation_id)

    started = _texts(chat.say("我们公司改名了"))
    assert f"当前名称：{OLD_NAME}" in started and "1个月内" in started, started
    assert "变更后的企业全称" in started, started
    assert "哪天变更" in _texts(chat.say(NEW_NAME))
    yesterday = today() - timedelta(days=1)  # China's day, whatever the server's time zone
    asked = _texts(chat.say("昨天"))
    assert "请上传新的营业执照" in asked, asked

    licence = _png(300, 200)
    message_id = "m" + secrets.token_hex(6)
    answer = _upload(stack, chat, "新营业执照.png", licence, message_id)
    submitted = _texts(answer["messages"])
    with _sessions(stack)() as session:
        due = load_calendar(session).add_working_days(today(), 3).isoformat()
    assert "已收到营业执照" in submitted, submitted
    assert f"名称变更申请已提交（新名称：{NEW_NAME}）" in submitted and due in submitted, submitted

    again = _upload(stack, chat, "新营业执照.png", licence, message_id)  # the page sent it twice
    assert again["document"]["id"] == answer["document"]["id"]
    documents = _rows(stack, Document, customer_id=customer_id)
    assert [(d.kind, d.original_name) for d in documents[3:]] == [
        ("business_licence", "新营业执照.png")
    ]
    reviews = _rows(stack, CustomerReview, customer_id=customer_id, kind="name_change")
    assert len(reviews) == 1, reviews
    [review] = reviews
    assert (review.status, review.new_name, review.changed_on) == ("pending", NEW_NAME, yesterday)
    assert (review.review_due.isoformat(), review.document_ids) == (due, [documents[-1].id])
    assert review.conversation_id == chat.conversation_id
    [customer] = _rows(stack, Customer, id=customer_id)
    assert customer.name == OLD_NAME  # until staff approve

    password = stack.settings.admin_password
    assert password is not None
    token = httpx.post(
        f"{stack.settings.desk_url}/api/auth/login",
        json={"username": stack.settings.admin_user, "password": password.get_secret_value()},
        timeout=10,
    ).json()["token"]
    approved = httpx.post(
        f"{stack.settings.desk_url}/api/customers/reviews/{review.id}/decision",
        headers={"Authorization": f"Bearer {token}"},
        json={"decision": "approved"},
        timeout=20,
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["notice_how"] == "web"
    [customer] = _rows(stack, Customer, id=customer_id)
    assert customer.name == NEW_NAME

    def told() -> list[str]:
        history = httpx.get(
            f"{stack.settings.desk_url}/api/chat/history",
            params={"conversation_id": chat.conversation_id},
            timeout=10,
        ).json()["messages"]
        return [m["text"] for m in history if m["sender"] == "system" and "已审核通过" in m["text"]]

    [notice] = wait_until(told, timeout=15)
    assert f"企业名称已更新为“{NEW_NAME}”" in notice, notice

    # the name is now the new one: a later change starts from it
    assert f"当前名称：{NEW_NAME}" in _texts(chat.say("企业名称变更"))
    chat.say("算了")
    assert not chat.tracker()["active_loop"].get("name")
    assert len(_rows(stack, CustomerReview, customer_id=customer_id, kind="name_change")) == 1


def test_a_change_older_than_one_month_is_refused_before_any_upload(
    stack: Stack, chat: Chat
) -> None:
    customer_id = _approved_enterprise(stack, chat.conversation_id)
    documents_before = len(_rows(stack, Document, customer_id=customer_id))

    chat.say("我们公司改名了")
    assert "哪天变更" in _texts(chat.say(NEW_NAME))
    long_ago: date = today() - timedelta(days=45)
    refused = _texts(chat.say(long_ago.isoformat()))
    assert "已超过1个月" in refused, refused
    assert "转人工" in refused, refused  # the way forward the chat really has
    assert "请上传新的营业执照" not in refused, refused
    assert not chat.tracker()["active_loop"].get("name")

    assert _rows(stack, CustomerReview, customer_id=customer_id, kind="name_change") == []
    assert len(_rows(stack, Document, customer_id=customer_id)) == documents_before
    [customer] = _rows(stack, Customer, id=customer_id)
    assert customer.name == OLD_NAME
