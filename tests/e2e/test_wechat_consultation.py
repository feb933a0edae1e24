"""质量门诊 for a WeChat follower on the real stack: an expert takes the chat over from the console.

The follower writes through encrypted callbacks (wechatpy's crypto) to a second app process with
the WeChat channel on; WeChat's API is the local stand-in (``FakeWeChat``), which receives the
expert's customer-service messages. The expert drives the console's JSON API
(docs/console-api.md) with a logged-in expert's token:

转人工 → claim → the transcript and the window (quota left, until when) → the follower writes
while claimed (shown to the expert, not answered by the bot) → a reply by customer-service
message, once per client id, its delivery "sent" → the window closed for real (the follower's
last contact 49 h back): free text refused with the reason, no template configured, a queued
reply that goes at the follower's next contact → a refused message ("failed" with WeChat's
errcode) → hand back: the bot greets the follower back and its tracker holds the expert's
delivered lines. The time from the expert's send to the stand-in is measured and printed.
"""

import secrets
import statistics
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from app.stack import Stack
from channels.models import OutboxMessage, WeChatContact, as_utc, utcnow
from channels.wechat.settings import WeChatSettings
from desk.db import get_sessionmaker
from desk.escalations.models import Escalation
from tests.channels.servers import wait_until
from tests.e2e.wechat import Follower, WeChatApp

EXPERT = "zhao.wxexpert"  # not the web test's expert: both modules run in one session
EXPERT_PASSWORD = "wx-expert-" + secrets.token_hex(4)
QUOTA = WeChatSettings.model_fields["wechat_cs_quota"].default
WINDOW_H = WeChatSettings.model_fields["wechat_cs_window_h"].default
CLOSED_REASON = "用户最后一次发消息已超过48小时，客服消息窗口已关闭。"
NEED = "锅炉上的压力表需要检定，去哪里送检？"
WHILE_CLAIMED = "我们一共有12块压力表，量程0到1.6兆帕。"
REPLIES = [
    "压力表属于强制检定计量器具，请联系当地法定计量技术机构预约送检。",
    "送检时请带上压力表的出厂合格证和上次的检定证书。",
    "一般压力表的检定周期不超过半年，具体以检定证书为准。",
]
QUEUED = "补充一点：送检前请把压力表内的介质排空。"
REFUSED = "这条消息微信拒收了。"
REFUSED_CODE = 43004  # require subscribe: WeChat cannot reach the follower now


class Console:
    """The expert's console: its JSON API with the expert's token."""

    def __init__(self, base_url: str, token: str) -> None:
        self.http = httpx.Client(
            base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )

    def get(self, path: str, **params: Any) -> Any:
        response = self.http.get(path, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    def post(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return self.http.post(path, json=body)

    def view(self, escalation_id: int) -> dict[str, Any]:
        view: dict[str, Any] = self.get(f"/api/escalations/{escalation_id}/conversation")
        return view

    def line(self, escalation_id: int, line_id: int) -> dict[str, Any]:
        lines = [x for x in self.view(escalation_id)["transcript"] if x["id"] == line_id]
        assert len(lines) == 1
        return lines[0]

    def delivery_becomes(self, escalation_id: int, line_id: int, state: str) -> dict[str, Any]:
        def reached() -> dict[str, Any] | None:
            delivery: dict[str, Any] = self.line(escalation_id, line_id)["delivery"]
            return delivery if delivery["state"] == state else None

        delivery: dict[str, Any] = wait_until(reached, timeout=20, step=0.1)
        return delivery

    def reply(self, escalation_id: int, text: str, mode: str, client_id: str) -> httpx.Response:
        return self.post(
            f"/api/escalations/{escalation_id}/messages",
            {"text": text, "mode": mode, "client_id": client_id},
        )


def _login(base: str, username: str, password: str) -> str:
    response = httpx.post(
        f"{base}/api/auth/login", json={"username": username, "password": password}, timeout=10
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


@pytest.fixture(scope="module")
def console(stack: Stack, wechat_app: WeChatApp) -> Iterator[Console]:
    """An expert of 计量 (metrology), logged in at the app that has the WeChat channel."""
    password = stack.settings.admin_password
    assert password is not None, "e2e settings give the first admin a password"
    base = wechat_app.url
    admin = Console(base, _login(base, stack.settings.admin_user, password.get_secret_value()))
    created = admin.post(
        "/api/users",
        {
            "username": EXPERT,
            "display_name": "赵工",
            "role": "expert",
            "password": EXPERT_PASSWORD,
        },
    )
    assert created.status_code == 201, created.text
    domains = admin.http.put(f"/api/experts/{EXPERT}/domains", json={"domains": ["metrology"]})
    assert domains.status_code == 200, domains.text
    expert = Console(base, _login(base, EXPERT, EXPERT_PASSWORD))
    yield expert
    expert.http.close()
    admin.http.close()


def _contact(stack: Stack, openid: str) -> WeChatContact:
    assert stack.settings.database_url
    with get_sessionmaker(stack.settings.database_url)() as session:
        contact = session.get(WeChatContact, openid)
        assert contact is not None
        session.expunge(contact)
        return contact


def _move_last_contact(stack: Stack, openid: str, hours: float) -> None:
    assert stack.settings.database_url
    with get_sessionmaker(stack.settings.database_url)() as session:
        session.execute(
            update(WeChatContact)
            .where(WeChatContact.openid == openid)
            .values(last_contact_at=utcnow() - timedelta(hours=hours))
        )
        session.commit()


def _outbox_rows(stack: Stack, line_id: int) -> list[tuple[str, int | None]]:
    assert stack.settings.database_url
    with get_sessionmaker(stack.settings.database_url)() as session:
        rows = session.execute(
            select(OutboxMessage.status, OutboxMessage.error_code).where(
                OutboxMessage.chat_message_id == line_id
            )
        )
        return [(status, code) for status, code in rows]


def _escalation(stack: Stack, escalation_id: int) -> Escalation:
    assert stack.settings.database_url
    with get_sessionmaker(stack.settings.database_url)() as session:
        escalation = session.get(Escalation, escalation_id)
        assert escalation is not None
        session.expunge(escalation)
        return escalation


def _quiet(wechat_app: WeChatApp, openid: str, count: int, seconds: float = 1.5) -> None:
    """Nothing more reaches the follower for a while (the outbox runs every 0.5 s)."""
    time.sleep(seconds)
    assert len(wechat_app.wechat.texts(openid)) == count, wechat_app.wechat.texts(openid)[count:]


def test_an_expert_takes_over_a_wechat_follower(
    stack: Stack, wechat_app: WeChatApp, console: Console
) -> None:
    wechat = wechat_app.wechat
    user = Follower(wechat_app)
    openid = user.openid

    # 1. the follower states a need and asks for a person; the bot answers within 5 s
    first = user.say(NEED)
    assert first.strip()
    handoff = user.say("转人工")
    assert handoff.strip()
    waiting = console.get("/api/escalations", status="waiting")["items"]
    mine = [e for e in waiting if e["conversation_id"] == user.conversation_id]
    assert len(mine) == 1, waiting
    escalation = mine[0]
    assert (escalation["channel"], escalation["domain"]) == ("wechat", "metrology")
    escalation_id = escalation["id"]

    # 2. the expert goes online, claims it, reads the transcript and the window
    presence = console.http.put("/api/experts/me/presence", json={"presence": "online"})
    assert presence.status_code == 200, presence.text
    waiting = console.get("/api/escalations", status="waiting")["items"]
    assert escalation_id in [e["id"] for e in waiting]
    claimed = console.post(f"/api/escalations/{escalation_id}/claim")
    assert claimed.status_code == 200, claimed.text
    assert (claimed.json()["status"], claimed.json()["expert"]) == ("claimed", EXPERT)
    view = console.view(escalation_id)
    user_lines = [x["text"] for x in view["transcript"] if x["sender"] == "user"]
    assert user_lines == [NEED, "转人工"]
    assert any(x["sender"] == "bot" for x in view["transcript"])
    contact = _contact(stack, openid)
    window = view["window"]
    assert window["channel"] == "wechat"
    assert window["free_text"] is True and window["reason"] is None
    assert window["remaining"] == QUOTA - contact.window_sent
    assert window["template_available"] is False
    last = as_utc(contact.last_contact_at)
    assert last is not None
    assert datetime.fromisoformat(window["until"]) == last + timedelta(hours=WINDOW_H)

    # 3. the follower writes while the expert holds the chat: shown to the expert, no bot answer
    tracker_events = len(user.tracker()["events"])
    before = len(wechat.texts(openid))
    assert user.write(WHILE_CLAIMED) is None  # 'success': nobody answers automatically
    transcript = console.view(escalation_id)["transcript"]
    assert [x["sender"] for x in transcript if x["text"] == WHILE_CLAIMED] == ["user"]
    assert transcript[-1]["text"] == WHILE_CLAIMED  # no bot or system line after it
    _quiet(wechat_app, openid, before)
    assert len(user.tracker()["events"]) == tracker_events  # the bot never saw it
    assert _contact(stack, openid).window_sent == 0  # the new contact opened a fresh window

    # 4. replies by customer-service message, once per client id; the time to the stand-in
    latencies: list[float] = []
    for number, text in enumerate(REPLIES):
        client_id = f"wx-e2e-{number}-{secrets.token_hex(4)}"
        posted = time.monotonic()
        response = console.reply(escalation_id, text, "send", client_id)
        assert response.status_code == 201, response.text
        line = response.json()
        assert (line["sender"], line["text"], line["author"]) == ("expert", text, EXPERT)
        assert line["delivery"]["state"] in ("pending", "sent")
        arrived = wait_until(lambda t=text: wechat.received(openid, t), timeout=20, step=0.005)
        latencies.append(arrived[0] - posted)
        delivery = console.delivery_becomes(escalation_id, line["id"], "sent")
        assert (delivery["mode"], delivery["errcode"]) == ("send", None)
        if number == 0:  # the console sends the same line again (a retry after a timeout)
            again = console.reply(escalation_id, text, "send", client_id)
            assert again.status_code == 201, again.text
            assert again.json()["id"] == line["id"]
            _quiet(wechat_app, openid, before + 1)
            assert wechat.received(openid, text) == arrived
    assert wechat.texts(openid)[before:] == REPLIES
    window = console.view(escalation_id)["window"]
    assert window["free_text"] is True
    assert window["remaining"] == QUOTA - len(REPLIES)
    assert _contact(stack, openid).window_sent == len(REPLIES)
    experts = [x for x in console.view(escalation_id)["transcript"] if x["sender"] == "expert"]
    assert [x["text"] for x in experts] == REPLIES

    # 5. the window closed for real: the follower's last contact 49 hours back
    _move_last_contact(stack, openid, hours=49)
    window = console.view(escalation_id)["window"]
    assert (window["free_text"], window["reason"], window["remaining"]) == (
        False,
        CLOSED_REASON,
        0,
    )
    count = len(wechat.texts(openid))
    refused = console.reply(escalation_id, "窗口关闭时的自由文本", "send", "wx-closed-1")
    assert refused.status_code == 409, refused.text
    assert refused.json()["detail"] == {"code": "window_closed", "message": CLOSED_REASON}
    template = console.reply(escalation_id, "模板消息", "template", "wx-template-1")
    assert template.status_code == 409, template.text
    assert template.json()["detail"]["code"] == "template_unavailable"
    assert not wechat.template_sent
    queued = console.reply(escalation_id, QUEUED, "queue", "wx-queued-1")
    assert queued.status_code == 201, queued.text
    queued_line = queued.json()
    assert (queued_line["delivery"]["state"], queued_line["delivery"]["mode"]) == (
        "queued",
        "queue",
    )
    _quiet(wechat_app, openid, count)
    assert console.line(escalation_id, queued_line["id"])["delivery"]["state"] == "queued"
    assert _outbox_rows(stack, queued_line["id"]) == [("held", None)]
    texts = [x["text"] for x in console.view(escalation_id)["transcript"]]
    assert "窗口关闭时的自由文本" not in texts and "模板消息" not in texts

    # the follower writes again: a new window, and the queued reply goes
    assert user.write("好的，我等您的消息。") is None
    wait_until(lambda: wechat.received(openid, QUEUED), timeout=20)
    console.delivery_becomes(escalation_id, queued_line["id"], "sent")
    window = console.view(escalation_id)["window"]
    assert window["free_text"] is True
    assert window["remaining"] == QUOTA - 1

    # 6. WeChat refuses a message: the line fails with WeChat's errcode
    wechat.errors.append(REFUSED_CODE)
    count = len(wechat.texts(openid))
    response = console.reply(escalation_id, REFUSED, "send", "wx-refused-1")
    assert response.status_code == 201, response.text
    refused_line = response.json()
    delivery = console.delivery_becomes(escalation_id, refused_line["id"], "failed")
    assert delivery["errcode"] == REFUSED_CODE
    assert delivery["errmsg"]
    assert wechat.refused == [(openid, REFUSED, REFUSED_CODE)]
    _quiet(wechat_app, openid, count)

    # 7. the expert closes: the bot greets the follower back and knows what the expert said
    count = len(wechat.texts(openid))
    closed = console.post(f"/api/escalations/{escalation_id}/close", {"outcome": "answered"})
    assert closed.status_code == 200, closed.text
    assert (closed.json()["status"], closed.json()["outcome"]) == ("closed", "answered")
    greeting = wait_until(
        lambda: [t for t in wechat.texts(openid)[count:] if "专家已结束本次咨询" in t], timeout=30
    )
    assert len(greeting) == 1
    escalation_row = _escalation(stack, escalation_id)
    assert (escalation_row.status, escalation_row.outcome) == ("closed", "answered")
    tracker = user.tracker()
    expert_turns = [
        e
        for e in tracker["events"]
        if e["event"] == "bot" and (e.get("metadata") or {}).get("qclinic_expert") == EXPERT
    ]
    assert [e["text"] for e in expert_turns] == [*REPLIES, QUEUED]  # the refused one is not
    assert {e["metadata"]["escalation_id"] for e in expert_turns} == {escalation_id}
    actions = [e["name"] for e in tracker["events"] if e["event"] == "action"]
    assert "action_handoff_back" in actions

    # the refused line stays failed: it never goes after the bot has the conversation back
    assert _outbox_rows(stack, refused_line["id"]) == [("dropped", REFUSED_CODE)]

    # the bot answers the next message itself
    question = "压力表检定需要多长时间？"
    next_answer = user.say(question)
    assert next_answer.strip()
    tracker = user.tracker()
    assert tracker["latest_message"]["text"] == question
    events = tracker["events"]
    asked = max(i for i, e in enumerate(events) if e["event"] == "user")
    assert events[asked]["text"] == question
    assert any(e["event"] == "bot" and e.get("text") for e in events[asked:])
    _quiet(wechat_app, openid, len(wechat.texts(openid)))
    assert REFUSED not in wechat.texts(openid)
    assert console.line(escalation_id, refused_line["id"])["delivery"]["state"] == "failed"
    transcript = console.view(escalation_id)["transcript"]
    assert [x["sender"] for x in transcript if x["text"] == question] == ["user"]
    assert transcript[-1]["sender"] == "bot"
    assert not wechat.problems

    median = statistics.median(latencies)
    print(
        "\nexpert's send → stand-in (message/custom/send): "
        + ", ".join(f"{s * 1000:.0f}" for s in latencies)
        + f" ms; median {median * 1000:.0f} ms"
    )
    print("WeChat turns (label, seconds, path):")
    for label, seconds, path in user.timings:
        print(f"  {seconds:6.3f}s {path:8s} {label}")
