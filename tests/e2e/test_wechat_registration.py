"""Registration (§7.1.1) on WeChat, on the real stack (Rasa, the action server, the database),
through encrypted callbacks, WeChat's API played by the local stand-in.

A follower registers an enterprise in the Official Account, started from the custom
menu: kind by its number, name, credit code (a wrong check character first), contact and
mobile; then sends its 营业执照 as an image, its 资质证书 as a file and its 诚信承诺书
as an image. The app fetches each through the stand-in's ``media/get`` and stores it as the
customer's document; WeChat's retry of the same image is fetched and stored once and gets no
second turn. The review (3 working days on the desk's calendar) is open; staff reject it
through the desk API naming the pledge; the follower is told by customer-service message,
replies 补充资料, sends a new pledge, and a second review opens with the kept licence and
certificate; staff approve and the follower is told. Rows are checked at each step.
"""

import re
import secrets
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from stdnum.cn import uscc

from app.stack import Stack
from desk.calendar.service import load_calendar
from desk.clock import today
from desk.customers.models import Customer, CustomerConversation, CustomerReview
from desk.db import get_sessionmaker
from desk.uploads.models import Document
from tests.channels.servers import wait_until
from tests.channels.wechat_calls import event_xml, message_xml
from tests.e2e.conftest import on_both_databases
from tests.e2e.test_staff_desk import _png
from tests.e2e.wechat import Follower, WeChatApp

COMPANY = "江阴澄江精密轴承有限公司"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
# Words that belong to the web page only: a WeChat user must never be sent there alone.
BASE_MSG = secrets.randbelow(10**9) * 10 + 7_000_000_000_000
WEB_ONLY = ("点击上传", "我的需求", "个人中心")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stack(request: pytest.FixtureRequest, stack: Stack) -> Stack:
    """The follower registers on the SQLite stack and again on the PostgreSQL one."""
    return on_both_databases(request, stack)


def _credit_code() -> str:
    base = "91320281" + "".join(secrets.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
    return base + uscc.calc_check_digit(base)


def _wrong_check(code: str) -> str:
    digits = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    return code[:-1] + next(c for c in digits if c != code[-1])


def _rows(stack: Stack, model: Any, **where: Any) -> list[Any]:
    assert stack.settings.database_url
    with get_sessionmaker(stack.settings.database_url)() as session:
        query = select(model).where(*(getattr(model, k) == v for k, v in where.items()))
        return list(session.scalars(query.order_by(*model.__table__.primary_key.columns)))


def _due(stack: Stack) -> str:
    assert stack.settings.database_url
    with get_sessionmaker(stack.settings.database_url)() as session:
        return load_calendar(session).add_working_days(today(), 3).isoformat()


def _staff(wechat_app: WeChatApp, stack: Stack) -> dict[str, str]:
    password = stack.settings.admin_password
    assert password is not None
    token = httpx.post(
        f"{wechat_app.url}/api/auth/login",
        json={"username": stack.settings.admin_user, "password": password.get_secret_value()},
        timeout=10,
    ).json()["token"]
    return {"Authorization": f"Bearer {token}"}


def _media(wechat_app: WeChatApp, content: bytes, media_type: str, name: str) -> str:
    media_id = "M" + secrets.token_hex(12)
    wechat_app.wechat.media[media_id] = (content, media_type, name)
    return media_id


def _image(user: Follower, media_id: str, msg_id: int) -> str:
    return message_xml(
        user.openid, "image", PicUrl="http://mmbiz.qpic.cn/x", MediaId=media_id, msg_id=msg_id
    )


def _told(wechat_app: WeChatApp, user: Follower, words: str) -> str:
    texts = wait_until(
        lambda: [t for t in wechat_app.wechat.texts(user.openid) if words in t], timeout=30
    )
    assert len(texts) == 1, texts  # told once
    return str(texts[0])


def test_an_enterprise_registers_on_wechat_and_resubmits_after_a_rejection(
    stack: Stack, wechat_app: WeChatApp
) -> None:
    user = Follower(wechat_app)
    code = _credit_code()
    said: list[str] = []

    def say(text: str) -> str:
        answer = user.say(text)
        said.append(answer)
        return answer

    # the menu's 办事服务 → 在对话中注册 (a CLICK event) starts it
    asked = user.send(event_xml(user.openid, "CLICK", "QC_REGISTER"), "[菜单] 在对话中注册")
    said.append(asked)
    assert "要注册哪一类用户" in asked, asked
    number = re.search(r"(\d+)\. 企业用户", asked)
    assert number, asked
    assert "企业全称" in say(number.group(1))
    assert "统一社会信用代码" in say(COMPANY)
    assert "校验位不正确" in say(_wrong_check(code))
    assert "联系人" in say(code.lower())
    assert "【隐私提示】" in say("张伟")
    asked = say("13912345678")
    assert "企业信息已登记" in asked and "请上传营业执照" in asked, asked
    assert "微信直接发送图片或文件" in asked

    [customer] = _rows(stack, Customer, credit_code=code)
    assert (customer.name, customer.kind, customer.contact_name, customer.mobile) == (
        COMPANY,
        "enterprise",
        "张伟",
        "13912345678",
    )
    assert customer.verification == "unverified"
    links = _rows(stack, CustomerConversation, customer_id=customer.id)
    assert [link.conversation_id for link in links] == [user.conversation_id]

    # the licence as an image: fetched through media/get; WeChat's retry is stored once
    licence = _media(wechat_app, _png(), "image/png", "mmexport1701.png")
    first = _image(user, licence, BASE_MSG + 1)
    answer = user.send(first, "[图片] 营业执照")
    assert "已收到营业执照" in answer and "资质证书" in answer, answer
    events = len(user.tracker()["events"])
    wechat_app.platform.post(first)  # the same MsgId again
    assert len(user.tracker()["events"]) == events  # no second bot turn
    assert wechat_app.wechat.media_fetched.count(licence) == 1
    assert len(_rows(stack, Document, customer_id=customer.id)) == 1

    certificate = _media(wechat_app, PDF, "application/pdf", "20261201093011.pdf")
    answer = user.send(
        message_xml(
            user.openid,
            "file",
            Title="生产许可证.pdf",
            MediaId=certificate,
            FileTotalLen=len(PDF),
            msg_id=BASE_MSG + 2,
        ),
        "[文件] 生产许可证.pdf",
    )
    assert "已收到资质证书" in answer and "诚信承诺书" in answer, answer
    pledge = _media(wechat_app, _png(300, 180), "image/png", "mmexport1702.png")
    submitted = user.send(_image(user, pledge, BASE_MSG + 3), "[图片] 诚信承诺书")
    due = _due(stack)
    assert "已收到诚信承诺书" in submitted, submitted
    assert "注册资料已提交审核" in submitted and due in submitted, submitted
    said.append(submitted)

    documents = _rows(stack, Document, customer_id=customer.id)
    assert [(d.kind, d.media_type, d.uploaded_by) for d in documents] == [
        ("business_licence", "image/png", "wechat"),
        ("qualification", "application/pdf", "wechat"),
        ("integrity_pledge", "image/png", "wechat"),
    ]
    assert documents[1].original_name == "生产许可证.pdf"
    [review] = _rows(stack, CustomerReview, customer_id=customer.id)
    assert (review.kind, review.status, review.review_due.isoformat()) == (
        "registration",
        "pending",
        due,
    )
    assert review.conversation_id == user.conversation_id
    assert sorted(review.document_ids) == [d.id for d in documents]
    [customer] = _rows(stack, Customer, id=customer.id)
    assert customer.verification == "pending"

    # staff reject it through the desk API, naming the pledge; the follower is told on WeChat
    staff = _staff(wechat_app, stack)
    rejected = httpx.post(
        f"{wechat_app.url}/api/customers/reviews/{review.id}/decision",
        headers=staff,
        json={
            "decision": "rejected",
            "reason": "诚信承诺书未加盖公章",
            "missing_documents": ["integrity_pledge"],
        },
        timeout=20,
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["notice_how"] == "wechat_message", rejected.json()
    notice = _told(wechat_app, user, "未通过审核")
    assert "诚信承诺书未加盖公章" in notice and "需补充：诚信承诺书" in notice, notice
    assert "回复“补充资料”" in notice, notice
    again = httpx.post(
        f"{wechat_app.url}/api/customers/reviews/{review.id}/decision",
        headers=staff,
        json={"decision": "approved"},
        timeout=20,
    )
    assert again.status_code == 409, again.text  # a decided review is not decided twice

    # completed and resubmitted on WeChat: only the pledge is asked again
    asked = say("补充资料")
    assert "原因：诚信承诺书未加盖公章" in asked, asked
    assert "请上传加盖公章的诚信承诺书" in asked, asked
    assert "请上传营业执照" not in asked and "请上传资质证书" not in asked, asked
    stamped = _media(wechat_app, _png(280, 160), "image/png", "mmexport1703.png")
    resubmitted = user.send(_image(user, stamped, BASE_MSG + 4), "[图片] 盖章的诚信承诺书")
    assert "已收到诚信承诺书" in resubmitted and "注册资料已提交审核" in resubmitted, resubmitted
    said.append(resubmitted)

    reviews = _rows(stack, CustomerReview, customer_id=customer.id)
    assert [(r.status, r.missing_documents or []) for r in reviews] == [
        ("rejected", ["integrity_pledge"]),
        ("pending", []),
    ]
    documents = _rows(stack, Document, customer_id=customer.id)
    assert len(documents) == 4
    assert (documents[-1].kind, documents[-1].source_key is not None) == ("integrity_pledge", True)
    assert sorted(reviews[1].document_ids) == [documents[0].id, documents[1].id, documents[3].id]

    approved = httpx.post(
        f"{wechat_app.url}/api/customers/reviews/{reviews[1].id}/decision",
        headers=staff,
        json={"decision": "approved"},
        timeout=20,
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["notice_how"] == "wechat_message"
    notice = _told(wechat_app, user, "已审核通过")
    assert COMPANY in notice, notice
    [customer] = _rows(stack, Customer, id=customer.id)
    assert customer.verification == "approved"
    assert len(_rows(stack, Customer, credit_code=code)) == 1

    assert "无需重复注册" in say("我要注册")
    assert len(_rows(stack, CustomerReview, customer_id=customer.id)) == 2

    for answer in said:
        assert not any(words in answer for words in WEB_ONLY), answer
    assert not wechat_app.wechat.problems
    print("\nWeChat registration turns (label, seconds, path):")
    for label, seconds, path in user.timings:
        print(f"  {seconds:6.3f}s {path:8s} {label}")
