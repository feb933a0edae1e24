"""A registration's review result (§7.1.1.5) for a WeChat follower whose 48-hour
customer-service window has closed, on the real stack (Rasa, the action server, the database),
through encrypted callbacks, WeChat's API played by the local stand-in.

* A template is configured (``QCLINIC_WECHAT_TEMPLATE_CASE``): staff reject the registration;
  one template message goes, its fields say what was decided and why; no customer-service
  message is attempted; the review and the audit log say it went by template message.
* No template: staff approve; nothing can reach the follower now, so the result is kept; the
  review says why and that it is kept. The follower's next message gets it once, its next one
  does not get it again; the review and the audit log then say it was shown.
"""

import secrets
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from app.stack import Stack
from channels.kept_notices import KeptNotice
from channels.models import WeChatContact, utcnow
from desk.audit import AuditEntry
from desk.clock import today
from desk.customers.models import CustomerReview
from tests.channels.servers import wait_until
from tests.e2e.conftest import on_both_databases
from tests.e2e.registrations import registered
from tests.e2e.registrations import sessions as _sessions
from tests.e2e.wechat import Follower, WeChatApp, running_wechat_app

TEMPLATE = "tpl-case-" + secrets.token_hex(4)
COMPANY = "江阴澄南精工机械有限公司"
CLOSED = "客服消息窗口已关闭"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stack(request: pytest.FixtureRequest, stack: Stack) -> Stack:
    """Both cases on the SQLite stack and again on the PostgreSQL one."""
    return on_both_databases(request, stack)


@pytest.fixture
def templated_app(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WeChatApp]:
    """A second WeChat app process whose account has the status template configured; ended
    with its test: its sender would otherwise take the other app's follower's messages from the
    shared outbox and send them through its own stand-in (one database serves one account)."""
    with running_wechat_app(
        stack,
        tmp_path_factory.mktemp("wechat-templated"),
        env={"QCLINIC_WECHAT_TEMPLATE_CASE": TEMPLATE},
        templates=frozenset({TEMPLATE}),
    ) as app:
        yield app


def _submitted(stack: Stack, conversation_id: str) -> tuple[int, int]:
    """An enterprise that registered in this WeChat conversation: its review is pending."""
    with _sessions(stack)() as session:
        customer_id, review = registered(
            session,
            stack,
            conversation_id=conversation_id,
            name=COMPANY,
            contact_name="李娜",
            submitted_in=conversation_id,
        )
        return customer_id, int(review.id)


def _close_window(stack: Stack, openid: str) -> None:
    """The follower's last message 49 hours back: the customer-service window is closed."""
    with _sessions(stack)() as session:
        session.execute(
            update(WeChatContact)
            .where(WeChatContact.openid == openid)
            .values(last_contact_at=utcnow() - timedelta(hours=49))
        )
        session.commit()


def _staff(app: WeChatApp, stack: Stack) -> dict[str, str]:
    password = stack.settings.admin_password
    assert password is not None
    token = httpx.post(
        f"{app.url}/api/auth/login",
        json={"username": stack.settings.admin_user, "password": password.get_secret_value()},
        timeout=10,
    ).json()["token"]
    return {"Authorization": f"Bearer {token}"}


def _decide(app: WeChatApp, stack: Stack, review_id: int, body: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(
        f"{app.url}/api/customers/reviews/{review_id}/decision",
        headers=_staff(app, stack),
        json=body,
        timeout=20,
    )
    assert response.status_code == 200, response.text
    decided: dict[str, Any] = response.json()
    return decided


def _review_as_staff_see_it(app: WeChatApp, stack: Stack, review_id: int) -> dict[str, Any]:
    response = httpx.get(f"{app.url}/api/customers/reviews", headers=_staff(app, stack), timeout=20)
    assert response.status_code == 200, response.text
    [review] = [r for r in response.json()["items"] if r["id"] == review_id]
    return dict(review)


def _notice_audit(stack: Stack, review_id: int) -> list[dict[str, Any]]:
    with _sessions(stack)() as session:
        rows = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "customer.review_notice")
            .order_by(AuditEntry.id)
        )
        return [dict(r.details) for r in rows if (r.details or {}).get("review_id") == review_id]


def test_a_rejection_reaches_a_follower_outside_the_window_by_template(
    stack: Stack, templated_app: WeChatApp
) -> None:
    app, wechat = templated_app, templated_app.wechat
    user = Follower(app)
    user.say("你好")  # a follower who wrote to the account once
    customer_id, review_id = _submitted(stack, user.conversation_id)
    _close_window(stack, user.openid)
    texts_before, attempts_before = len(wechat.texts(user.openid)), wechat.send_attempts

    decided = _decide(
        app,
        stack,
        review_id,
        {
            "decision": "rejected",
            "reason": "营业执照照片不清晰",
            "missing_documents": ["business_licence"],
        },
    )
    assert (decided["notice_how"], decided["notice_reason"]) == ("wechat_template", None)

    [sent] = wechat.template_sent  # one template message
    assert (sent["touser"], sent["template_id"]) == (user.openid, TEMPLATE)
    data = {key: value["value"] for key, value in sent["data"].items()}
    assert data["first"] == "您的注册申请有新的审核结果", data
    assert data["keyword1"] == COMPANY, data
    assert data["keyword2"] == "未通过：营业执照照片不清晰；需补充：营业执照", data
    assert data["keyword3"].startswith(today().isoformat()), data
    assert "补充资料" in data["remark"], data
    assert all(0 < len(v) <= 100 for v in data.values()), data
    # no customer-service message was tried, and nothing is kept for later
    assert len(wechat.texts(user.openid)) == texts_before
    assert wechat.send_attempts == attempts_before
    with _sessions(stack)() as session:
        kept = session.scalars(
            select(KeptNotice).where(KeptNotice.conversation_id == user.conversation_id)
        ).all()
        assert kept == []

    seen = _review_as_staff_see_it(app, stack, review_id)
    assert (seen["status"], seen["notice_how"]) == ("rejected", "wechat_template")
    [audit] = _notice_audit(stack, review_id)
    assert (audit["how"], audit["how_label"]) == ("wechat_template", "微信模板消息")
    with _sessions(stack)() as session:
        review = session.get(CustomerReview, review_id)
        assert review is not None and review.customer_id == customer_id
    assert not wechat.problems


def test_an_approval_without_a_template_is_kept_and_shown_once_at_the_next_message(
    stack: Stack, wechat_app: WeChatApp
) -> None:
    app, wechat = wechat_app, wechat_app.wechat
    user = Follower(app)
    user.say("你好")
    _customer_id, review_id = _submitted(stack, user.conversation_id)
    _close_window(stack, user.openid)
    texts_before = len(wechat.texts(user.openid))

    decided = _decide(app, stack, review_id, {"decision": "approved"})
    assert decided["notice_how"] is None, decided
    reason = decided["notice_reason"]
    assert CLOSED in reason and "未配置进展通知模板消息" in reason, reason
    assert "将在企业下次发来消息时显示" in reason, reason
    assert not wechat.template_sent
    assert len(wechat.texts(user.openid)) == texts_before  # nothing reached the follower now
    [audit] = _notice_audit(stack, review_id)
    assert (audit["how"], audit["kept"]) == (None, True)

    user.say("在吗")  # the next contact: the result goes at once beside the bot's answer
    wait_until(lambda: any("已审核通过" in t for t in wechat.texts(user.openid)), timeout=5)
    answer = "\n".join(wechat.texts(user.openid)[texts_before:])
    assert answer.count("已审核通过") == 1, answer
    assert COMPANY in answer and "因当时无法送达而为您保留" in answer, answer
    again = user.say("谢谢")
    assert "已审核通过" not in again, again
    assert sum("已审核通过" in t for t in wechat.texts(user.openid)) <= 1

    seen = _review_as_staff_see_it(app, stack, review_id)
    assert seen["notice_how"] == "next_contact", seen
    shown = _notice_audit(stack, review_id)
    assert [a["how"] for a in shown] == [None, "next_contact"], shown
    with _sessions(stack)() as session:
        [kept] = session.scalars(
            select(KeptNotice).where(KeptNotice.conversation_id == user.conversation_id)
        ).all()
        assert kept.shown_at is not None and kept.shown_in == user.conversation_id
        assert kept.case_kind == "review"
    assert not wechat.problems
