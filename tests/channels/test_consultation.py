"""The console's side of a conversation (channels/consultation.py): an expert's reply reaches the
web page or WeChat once, the window and its refusals, queued and template messages, delivery
states, and the hand-back into Rasa's tracker."""

import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from channels.consultation import ChannelConversations
from channels.expert_replies import TemplateUnavailable, WindowClosed
from channels.expert_window import CLOSED, SPENT, UNSUBSCRIBED
from channels.handback import HANDED_BACK
from channels.models import OutboxMessage, WeChatContact, utcnow
from channels.transcript import ChatMessage, line_of
from desk.clock import now
from desk.consultations.schemas import TranscriptLine
from desk.escalations.schemas import EscalationCreate
from desk.escalations.service import claim, create_escalation
from desk.live.models import ConsoleEvent
from tests.channels.conftest import Live, LiveFactory
from tests.channels.servers import wait_until
from tests.channels.test_web_stream import Stream
from tests.channels.wechat_calls import text_xml


def web_cid() -> str:
    return "web:c" + secrets.token_hex(8)


def openid() -> str:
    return "o" + secrets.token_urlsafe(20)


def client_id() -> str:
    return "c-" + secrets.token_hex(8)


def port(live: Live) -> ChannelConversations:
    consultation: ChannelConversations = live.app.app.state.consultation
    return consultation


def send(live: Live, conversation_id: str, text: str, **kwargs: Any) -> TranscriptLine:
    channel = "wechat" if conversation_id.startswith("wx:") else "web"
    values: dict[str, Any] = {"mode": "send", "author": "expert1", "client_id": client_id()}
    values.update(kwargs)
    line: TranscriptLine = live.app.call(
        port(live).send(conversation_id=conversation_id, channel=channel, text=text, **values)
    )
    return line


def escalate(live: Live, conversation_id: str) -> int:
    channel = "wechat" if conversation_id.startswith("wx:") else "web"
    with live.session() as session:
        escalation, _ = create_escalation(
            session,
            data=EscalationCreate(
                conversation_id=conversation_id, summary="需要专家", channel=channel
            ),
            actor="bot",
            moment=now(),
        )
        claim(session, escalation_id=escalation.id, actor="expert1", moment=now())
        return escalation.id


def window(live: Live, conversation_id: str) -> Any:
    with live.session() as session:
        return port(live).window(session, conversation_id=conversation_id, channel="wechat")


def line(live: Live, message_id: int) -> TranscriptLine:
    with live.session() as session:
        row = session.get(ChatMessage, message_id)
        assert row is not None
        return line_of(row)


def deliveries(live: Live, message_id: int) -> list[tuple[str, int | None]]:
    return [
        (e.data["delivery"]["state"], e.data["delivery"]["errcode"])
        for e in live.rows(ConsoleEvent, kind="delivery")
        if e.data["message_id"] == message_id
    ]


def bot_line(live: Live, conversation_id: str) -> dict[str, Any] | None:
    history = httpx.get(
        f"{live.url}/api/chat/history", params={"conversation_id": conversation_id}
    ).json()["messages"]
    return next((m for m in reversed(history) if m["sender"] == "bot"), None)


def set_contact(live: Live, user: str, **values: Any) -> None:
    with live.session() as session:
        session.execute(update(WeChatContact).where(WeChatContact.openid == user).values(**values))
        session.commit()


def wechat_user(live: Live) -> tuple[str, str, int]:
    """A follower who wrote to the account, handed to an expert (who claimed)."""
    user = openid()
    live.greet(user)
    conversation_id = f"wx:{user}"
    return user, conversation_id, escalate(live, conversation_id)


# -- web -----------------------------------------------------------------------------------


def test_web_reply_is_in_the_history_and_the_stream_at_once(live: LiveFactory) -> None:
    app = live()
    conversation = web_cid()
    httpx.post(
        f"{app.url}/api/chat/messages", json={"conversation_id": conversation, "text": "转人工"}
    )
    # On a loaded machine the turn may outlast the test's 1 s deadline; its reply then
    # arrives in the history a little later.
    reply = wait_until(lambda: bot_line(app, conversation), timeout=30)
    escalation_id = escalate(app, conversation)
    stream = Stream(app, conversation, after=reply["id"])
    try:
        time.sleep(0.2)
        started = time.monotonic()
        sent = send(app, conversation, "您好，我是王工，请问检测哪个型号？")
        [shown] = stream.wait_for(1)
        assert time.monotonic() - started < 1.0  # woken, not polled
    finally:
        stream.close()
    assert (shown["sender"], shown["text"], shown["id"]) == ("expert", sent.text, sent.id)
    assert sent.sender == "expert" and sent.author == "expert1" and sent.channel == "web"
    assert sent.delivery is not None and (sent.delivery.state, sent.delivery.mode) == (
        "sent",
        "send",
    )
    history = httpx.get(
        f"{app.url}/api/chat/history", params={"conversation_id": conversation}
    ).json()["messages"]
    assert [(m["sender"], m["text"]) for m in history][-1] == ("expert", sent.text)
    with app.session() as session:
        lines = port(app).transcript(session, conversation_id=conversation)
        assert [x.sender for x in lines] == ["user", "bot", "expert"]
        assert lines[-1].author == "expert1"
        since = port(app).lines_since(
            session, after_id=reply["id"], conversation_ids=[conversation]
        )
        assert [(c, x.id) for c, x in since] == [(conversation, sent.id)]
        assert port(app).lines_since(session, after_id=0, conversation_ids=[]) == []
        assert port(app).last_line_id(session) == sent.id
        assert port(app).window(session, conversation_id=conversation, channel="web").free_text
    [row] = [r for r in app.rows(ChatMessage, conversation_id=conversation) if r.id == sent.id]
    assert row.payload["escalation_id"] == escalation_id
    assert row.payload["client_id"]


def test_template_mode_is_refused_on_the_web(live: LiveFactory) -> None:
    app = live(wechat_template_reply="TPL-REPLY")
    with pytest.raises(TemplateUnavailable) as refused:
        send(app, web_cid(), "您好", mode="template")
    assert (refused.value.code, refused.value.status) == ("template_unavailable", 409)


# -- WeChat: customer-service messages ------------------------------------------------------


def test_wechat_reply_goes_as_a_customer_service_message_and_turns_sent(
    live_any_db: LiveFactory,
) -> None:
    app = live_any_db()
    user, conversation, escalation_id = wechat_user(app)
    before = window(app, conversation)
    assert before.free_text and before.remaining == app.settings.wechat_cs_quota
    assert before.until is not None and before.until > utcnow() + timedelta(hours=47)
    sent = send(app, conversation, "您好，我是质量门诊的王工。")
    assert sent.delivery is not None and sent.delivery.state == "pending"
    wait_until(lambda: app.wechat.texts(user) == ["您好，我是质量门诊的王工。"])
    wait_until(lambda: line(app, sent.id).delivery.state == "sent")  # type: ignore[union-attr]
    assert deliveries(app, sent.id) == [("sent", None)]
    [event] = app.rows(ConsoleEvent, kind="delivery")
    assert event.escalation_id == escalation_id and event.conversation_id == conversation
    assert event.data["delivery"] == {
        "state": "sent",
        "mode": "send",
        "errcode": None,
        "errmsg": None,
    }
    [row] = app.outbox(user)
    assert (row.chat_message_id, row.status) == (sent.id, "sent")
    assert window(app, conversation).remaining == app.settings.wechat_cs_quota - 1
    assert not app.wechat.problems


def test_expert_lines_are_never_merged_with_other_messages(live: LiveFactory) -> None:
    app = live()
    user, conversation, _ = wechat_user(app)
    with app.session() as session:  # a bot message still waiting for this follower
        outbox = app.app.app.state.wechat.outbox
        outbox.enqueue_texts(session, conversation, ["机器人的补充说明"], None)
        session.commit()
    first = send(app, conversation, "专家第一条")
    second = send(app, conversation, "专家第二条")
    wait_until(lambda: len(app.wechat.texts(user)) == 3)
    assert app.wechat.texts(user) == ["机器人的补充说明", "专家第一条", "专家第二条"]
    for sent in (first, second):
        wait_until(lambda s=sent: line(app, s.id).delivery.state == "sent")  # type: ignore[union-attr,misc]


def test_closed_window_refuses_free_text_with_the_reason(live: LiveFactory) -> None:
    app = live(wechat_template_reply="TPL-REPLY")
    user, conversation, _ = wechat_user(app)
    set_contact(app, user, last_contact_at=utcnow() - timedelta(hours=49))
    closed = window(app, conversation)
    assert not closed.free_text and closed.reason == CLOSED.format(hours=48)
    assert closed.reason == "用户最后一次发消息已超过48小时，客服消息窗口已关闭。"
    assert closed.template_available
    lines_before = app.transcript(conversation)
    with pytest.raises(WindowClosed) as refused:
        send(app, conversation, "还在吗？")
    assert (refused.value.code, refused.value.status) == ("window_closed", 409)
    assert refused.value.message == closed.reason
    assert app.transcript(conversation) == lines_before and app.outbox(user) == []

    set_contact(app, user, last_contact_at=utcnow(), window_sent=app.settings.wechat_cs_quota)
    spent = window(app, conversation)
    assert (spent.free_text, spent.remaining) == (False, 0)
    assert spent.reason == SPENT.format(hours=48, quota=5) == "48小时内的5条客服消息已用完。"

    set_contact(app, user, window_sent=0, subscribed=False)
    gone = window(app, conversation)
    assert (gone.free_text, gone.reason, gone.template_available) == (False, UNSUBSCRIBED, False)
    with pytest.raises(WindowClosed):
        send(app, conversation, "还在吗？")
    assert app.wechat.texts(user) == []


def test_queued_reply_goes_out_at_the_next_contact(live_any_db: LiveFactory) -> None:
    app = live_any_db()
    user, conversation, _ = wechat_user(app)
    set_contact(app, user, last_contact_at=utcnow() - timedelta(hours=49))
    queued = send(app, conversation, "检测报告已出，请查收。", mode="queue")
    assert queued.delivery is not None
    assert (queued.delivery.state, queued.delivery.mode) == ("queued", "queue")
    time.sleep(0.6)  # a few outbox rounds
    assert app.wechat.texts(user) == []
    assert [r.status for r in app.outbox(user)] == ["held"]

    app.platform.post(text_xml(user, "在吗"))  # the follower writes again: a new window
    wait_until(lambda: app.wechat.texts(user) == ["检测报告已出，请查收。"])
    wait_until(lambda: line(app, queued.id).delivery.state == "sent")  # type: ignore[union-attr]
    assert line(app, queued.id).delivery.mode == "queue"  # type: ignore[union-attr]
    assert deliveries(app, queued.id) == [("sent", None)]


# -- WeChat: template messages --------------------------------------------------------------


def test_template_reply_reaches_a_user_outside_the_window(live: LiveFactory) -> None:
    app = live(wechat_template_reply="TPL-REPLY")
    app.wechat.templates.add("TPL-REPLY")
    user, conversation, _ = wechat_user(app)
    set_contact(app, user, last_contact_at=utcnow() - timedelta(hours=60))
    sent = send(app, conversation, "您的检测样品已收到，三个工作日内出报告。", mode="template")
    assert sent.delivery is not None and (sent.delivery.state, sent.delivery.mode) == (
        "sent",
        "template",
    )
    [body] = app.wechat.template_sent
    assert (body["touser"], body["template_id"]) == (user, "TPL-REPLY")
    assert set(body["data"]) == {"first", "keyword1", "keyword2", "remark"}
    assert body["data"]["keyword1"]["value"] == "您的检测样品已收到，三个工作日内出报告。"
    assert app.wechat.texts(user) == []  # not a customer-service message
    assert deliveries(app, sent.id) == [("sent", None)]

    app.wechat.template_errors.append(43004)  # the follower left meanwhile
    failed = send(app, conversation, "再通知一次", mode="template")
    assert failed.delivery is not None
    assert (failed.delivery.state, failed.delivery.errcode) == ("failed", 43004)
    assert failed.delivery.errmsg == "scripted"


def test_template_mode_without_a_template_id_is_refused(live: LiveFactory) -> None:
    app = live()
    user, conversation, _ = wechat_user(app)
    set_contact(app, user, last_contact_at=utcnow() - timedelta(hours=60))
    assert not window(app, conversation).template_available
    before = app.transcript(conversation)
    with pytest.raises(TemplateUnavailable) as refused:
        send(app, conversation, "您好", mode="template")
    assert (refused.value.code, refused.value.status) == ("template_unavailable", 409)
    assert "模板" in refused.value.message
    assert app.transcript(conversation) == before and app.wechat.template_sent == []


# -- once per client id, delivery failures ---------------------------------------------------


def test_the_same_client_id_sends_once_across_processes(live_any_db: LiveFactory) -> None:
    app = live_any_db()
    other = app.second_app()
    user, conversation, _ = wechat_user(app)
    key = client_id()

    def from_(server: Any) -> TranscriptLine:
        consultation: ChannelConversations = server.app.state.consultation
        result: TranscriptLine = server.call(
            consultation.send(
                conversation_id=conversation,
                channel="wechat",
                text="同一条回复",
                mode="send",
                author="expert1",
                client_id=key,
            )
        )
        return result

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(from_, [app.app, other, app.app, other]))
    assert len({r.id for r in results}) == 1
    again = from_(app.app)  # a retry after the console lost the answer
    assert again.id == results[0].id
    wait_until(lambda: app.wechat.texts(user))
    time.sleep(0.8)  # a second send would have arrived by now
    assert app.wechat.texts(user) == ["同一条回复"]
    assert [t for s, t in app.transcript(conversation) if s == "expert"] == ["同一条回复"]
    assert len(app.outbox(user)) == 1


def test_web_same_client_id_is_one_line(live: LiveFactory) -> None:
    app = live()
    conversation = web_cid()
    key = client_id()
    first = send(app, conversation, "您好", client_id=key)
    second = send(app, conversation, "您好", client_id=key)
    assert first.id == second.id
    assert app.transcript(conversation) == [("expert", "您好")]


def test_wechat_api_error_marks_the_line_failed_with_the_errcode(live: LiveFactory) -> None:
    app = live()
    user, conversation, _ = wechat_user(app)
    app.wechat.errors.append(43004)  # not a follower any more: WeChat cannot reach them
    refused = send(app, conversation, "您好，请补充材料。")
    wait_until(lambda: line(app, refused.id).delivery.state == "failed")  # type: ignore[union-attr]
    delivery = line(app, refused.id).delivery
    assert delivery is not None and (delivery.errcode, delivery.errmsg) == (43004, "scripted")
    assert deliveries(app, refused.id) == [("failed", 43004)]

    app.wechat.errors.append(45009)  # a passing refusal: shown, then retried and sent
    retried = send(app, conversation, "第二条说明")
    wait_until(lambda: line(app, retried.id).delivery.state == "sent")  # type: ignore[union-attr]
    assert deliveries(app, retried.id) == [("failed", 45009), ("sent", None)]
    assert "第二条说明" in app.wechat.texts(user)


# -- hand back --------------------------------------------------------------------------------


GREETING = [{"text": "您好，我是智能助手，专家的解答已记录。还有什么可以帮您？", "buttons": []}]


def test_hand_back_writes_the_tracker_and_delivers_the_greeting_on_the_web(
    live: LiveFactory,
) -> None:
    app = live()
    app.rasa.token = app.settings.secret("rasa_token")
    app.rasa.actions["action_handoff_back"] = [
        {
            "text": "您好，我是智能助手。",
            "buttons": [{"title": "办理需求", "payload": "/request_service"}],
        }
    ]
    conversation = web_cid()
    httpx.post(
        f"{app.url}/api/chat/messages", json={"conversation_id": conversation, "text": "转人工"}
    )
    reply = wait_until(lambda: bot_line(app, conversation), timeout=30)
    escalation_id = escalate(app, conversation)
    first = send(app, conversation, "电缆检测请选择GB/T 12706。")
    second = send(app, conversation, "样品请寄到检测院。", author="expert2")
    stream = Stream(app, conversation, after=second.id)
    try:
        lines: list[TranscriptLine] = app.app.call(
            port(app).hand_back(
                conversation_id=conversation,
                channel="web",
                expert="expert2",
                outcome="answered",
                escalation_id=escalation_id,
            )
        )
        [shown] = stream.wait_for(1)
    finally:
        stream.close()
    assert [(x.sender, x.text) for x in lines] == [("bot", "您好，我是智能助手。")]
    assert lines[0].buttons == [{"title": "办理需求", "payload": "/request_service"}]
    assert shown["text"] == "您好，我是智能助手。" and shown["id"] == lines[0].id
    [(sender, events)] = app.rasa.appended
    assert sender == conversation
    assert [{k: v for k, v in e.items() if k != "timestamp"} for e in events] == [
        {
            "event": "bot",
            "text": first.text,
            "metadata": {"qclinic_expert": "expert1", "escalation_id": escalation_id},
        },
        {
            "event": "bot",
            "text": second.text,
            "metadata": {"qclinic_expert": "expert2", "escalation_id": escalation_id},
        },
        {"event": "slot", "name": "handoff_outcome", "value": "answered"},
    ]
    assert events[0]["timestamp"] <= events[1]["timestamp"]
    assert app.rasa.executed == [(conversation, {"name": "action_handoff_back"})]
    assert app.transcript(conversation)[-1] == ("bot", "您好，我是智能助手。")
    assert reply["id"] < first.id


def test_hand_back_on_wechat_sends_the_greeting_by_the_outbox(live: LiveFactory) -> None:
    app = live()
    app.rasa.actions["action_handoff_back"] = GREETING
    user, conversation, escalation_id = wechat_user(app)
    send(app, conversation, "专家解答：需要提供产品说明书。")
    wait_until(lambda: app.wechat.texts(user))
    lines = app.app.call(
        port(app).hand_back(
            conversation_id=conversation,
            channel="wechat",
            expert="expert1",
            outcome="demand_opened",
            escalation_id=escalation_id,
        )
    )
    assert [x.sender for x in lines] == ["bot"]
    wait_until(lambda: len(app.wechat.texts(user)) == 2)
    assert app.wechat.texts(user)[-1] == GREETING[0]["text"]
    [(_, events)] = app.rasa.appended
    assert [e["event"] for e in events] == ["bot", "slot"]
    assert events[-1]["value"] == "demand_opened"


def test_a_failed_line_never_goes_after_the_hand_back(live: LiveFactory) -> None:
    """Left out of the tracker, the refused line is not released at the next contact either
    (it would reach the user after the bot's greeting, unknown to the bot)."""
    app = live()
    app.rasa.actions["action_handoff_back"] = GREETING
    user, conversation, escalation_id = wechat_user(app)
    app.wechat.errors.append(43004)
    refused = send(app, conversation, "这条没有送达。")
    wait_until(lambda: line(app, refused.id).delivery.state == "failed")  # type: ignore[union-attr]
    app.app.call(
        port(app).hand_back(
            conversation_id=conversation,
            channel="wechat",
            expert="expert1",
            outcome="answered",
            escalation_id=escalation_id,
        )
    )
    wait_until(lambda: app.wechat.texts(user) == [GREETING[0]["text"]])
    [(_, events)] = app.rasa.appended
    assert [e["event"] for e in events] == ["slot"]
    assert [r.status for r in app.outbox(user) if r.chat_message_id == refused.id] == ["dropped"]

    app.platform.post(text_xml(user, "在吗"))  # the next contact releases what was held
    time.sleep(0.6)  # a few outbox rounds
    assert app.wechat.texts(user) == [GREETING[0]["text"]]
    assert line(app, refused.id).delivery.state == "failed"  # type: ignore[union-attr]


def test_hand_back_with_rasa_down_still_tells_the_user(live: LiveFactory) -> None:
    app = live()
    conversation = web_cid()
    escalation_id = escalate(app, conversation)
    send(app, conversation, "已为您解答。")
    app.rasa_down()
    lines = app.app.call(
        port(app).hand_back(
            conversation_id=conversation,
            channel="web",
            expert="expert1",
            outcome="answered",
            escalation_id=escalation_id,
        )
    )
    assert [(x.sender, x.text) for x in lines] == [("system", HANDED_BACK)]
    assert app.transcript(conversation)[-1] == ("system", HANDED_BACK)
    history = httpx.get(
        f"{app.url}/api/chat/history", params={"conversation_id": conversation}
    ).json()["messages"]
    assert history[-1]["text"] == HANDED_BACK


def test_outbox_rows_keep_their_line(live: LiveFactory) -> None:
    """Each expert line has its own outbox row pointing at it (migration 0012's column)."""
    app = live()
    user, conversation, _ = wechat_user(app)
    sent = send(app, conversation, "您好")
    rows: list[OutboxMessage] = app.outbox(user)
    assert [r.chat_message_id for r in rows] == [sent.id]
