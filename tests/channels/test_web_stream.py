"""The web chat's live stream (SSE): later messages arrive, a reconnect loses nothing."""

import json
import secrets
import threading
import time
from typing import Any

import httpx

from channels.gateway import BOT_UNAVAILABLE, BotMessage
from tests.channels.conftest import Live, LiveFactory


def cid() -> str:
    return "web:t" + secrets.token_hex(8)


class Stream:
    """Reads a conversation's SSE stream in a thread, as EventSource would."""

    def __init__(
        self,
        live: Live,
        conversation_id: str,
        *,
        after: int | None = None,
        last_event_id: str | None = None,
    ) -> None:
        params: dict[str, Any] = {"conversation_id": conversation_id}
        if after is not None:
            params["after"] = after
        headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
        self.events: list[dict[str, Any]] = []
        self.ids: list[str] = []
        self.retry: str | None = None
        self._client = httpx.Client(timeout=httpx.Timeout(5, read=None))
        self._response = self._client.send(
            self._client.build_request(
                "GET", f"{live.url}/api/chat/stream", params=params, headers=headers
            ),
            stream=True,
        )
        assert self._response.status_code == 200
        assert self._response.headers["content-type"].startswith("text/event-stream")
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        event: dict[str, str] = {}
        try:
            for line in self._response.iter_lines():
                if line.startswith("retry:"):
                    self.retry = line.split(":", 1)[1].strip()
                elif line.startswith("id:"):
                    event["id"] = line.split(":", 1)[1].strip()
                elif line.startswith("data:"):
                    event["data"] = line.split(":", 1)[1].strip()
                elif line == "" and "data" in event:
                    self.ids.append(event.get("id", ""))
                    self.events.append(json.loads(event["data"]))
                    event = {}
        except (httpx.HTTPError, RuntimeError):
            pass

    def wait_for(self, count: int, timeout: float = 10) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.events) < count:
            assert time.monotonic() < deadline, f"only {self.events}"
            time.sleep(0.05)
        return self.events

    def close(self) -> None:
        self._response.close()
        self._client.close()


def post(live: Live, conversation_id: str, text: str) -> list[dict[str, Any]]:
    response = httpx.post(
        f"{live.url}/api/chat/messages",
        json={"conversation_id": conversation_id, "text": text},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    messages: list[dict[str, Any]] = response.json()["messages"]
    return messages


def test_reply_kept_while_the_bot_was_down_arrives_by_stream(live: LiveFactory) -> None:
    app = live(rasa_running=False)
    conversation = cid()
    [apology] = post(app, conversation, "你好")
    assert apology["text"] == BOT_UNAVAILABLE and apology["sender"] == "system"
    stream = Stream(app, conversation, after=apology["id"])
    try:
        time.sleep(0.3)
        assert stream.events == []
        app.rasa_up()
        [reply] = stream.wait_for(1)
        assert (reply["sender"], reply["text"]) == ("bot", "收到：你好")
        assert stream.retry == "3000"
    finally:
        stream.close()
    assert app.rasa.messages() == ["你好"]


def test_slow_turn_is_promised_then_streamed(live: LiveFactory) -> None:
    app = live(web_reply_deadline_s=0.5)
    app.rasa.delay_s = 1.2
    conversation = cid()
    stream = Stream(app, conversation)
    try:
        [notice] = post(app, conversation, "慢一点")
        assert notice.get("pending") is True and "id" not in notice
        [reply] = stream.wait_for(1)
        assert reply["text"] == "收到：慢一点"
    finally:
        stream.close()


def test_expert_message_is_pushed_and_a_reconnect_resumes(live: LiveFactory) -> None:
    app = live()
    conversation = cid()
    [reply] = post(app, conversation, "转人工")
    first = Stream(app, conversation, after=reply["id"])

    def deliver(text: str) -> list[dict[str, Any]]:
        conversations = app.app.app.state.conversations
        result: list[dict[str, Any]] = app.app.call(
            conversations.deliver(
                conversation_id=conversation, channel="web", messages=[BotMessage(text=text)]
            )
        )
        return result

    try:
        deliver("专家：您好，我是王工。")
        [expert] = first.wait_for(1)
        assert (expert["sender"], expert["text"]) == ("expert", "专家：您好，我是王工。")
        last_seen = first.ids[-1]
    finally:
        first.close()  # the network drops

    deliver("专家：请问检测哪个型号？")  # while the page is away
    deliver("<img src=x onerror=alert(1)>")
    second = Stream(app, conversation, after=0, last_event_id=last_seen)  # EventSource's resume
    try:
        events = second.wait_for(2)
        assert [e["text"] for e in events] == [
            "专家：请问检测哪个型号？",
            "<img src=x onerror=alert(1)>",
        ]
        assert [int(i) for i in second.ids] == sorted(int(i) for i in second.ids)
    finally:
        second.close()


def test_history_has_ids_and_cards(live: LiveFactory) -> None:
    app = live()
    app.rasa.script["推荐"] = [
        {
            "text": "为您推荐：",
            "custom": {
                "cards": [{"kind": "service", "title": "电线电缆检测", "reasons": ["覆盖电线电缆"]}]
            },
        }
    ]
    conversation = cid()
    [message] = post(app, conversation, "推荐")
    assert message["custom"]["cards"][0]["title"] == "电线电缆检测"
    history = httpx.get(
        f"{app.url}/api/chat/history", params={"conversation_id": conversation}, timeout=30
    ).json()["messages"]
    assert [m["sender"] for m in history] == ["user", "bot"]
    assert history[1]["id"] == message["id"] and history[1]["custom"] == message["custom"]


def test_quick_reply_keeps_its_title_in_the_history(live: LiveFactory) -> None:
    app = live()
    conversation = cid()
    response = httpx.post(
        f"{app.url}/api/chat/messages",
        json={"conversation_id": conversation, "text": "/affirm", "display": "好的"},
        timeout=30,
    )
    assert response.status_code == 200
    assert app.rasa.messages() == ["/affirm"]
    history = httpx.get(
        f"{app.url}/api/chat/history", params={"conversation_id": conversation}, timeout=30
    ).json()["messages"]
    assert (history[0]["sender"], history[0]["text"]) == ("user", "好的")


def test_stream_refuses_a_bad_conversation_id(live: LiveFactory) -> None:
    app = live()
    response = httpx.get(f"{app.url}/api/chat/stream", params={"conversation_id": "x"}, timeout=30)
    assert response.status_code == 422


def test_wake_ups_cross_processes_through_redis(live: LiveFactory) -> None:
    """A page streams from one app process; an expert's reply is stored by another."""
    app = live(redis_url="redis://127.0.0.1:6379/0", chat_stream_poll_s=30)
    other = app.second_app()  # the same database and Redis: a second replica
    conversation = cid()
    [reply] = post(app, conversation, "你好")
    stream = Stream(app, conversation, after=reply["id"])
    try:
        time.sleep(0.5)  # the stream is waiting (and would poll only after 30 s)
        started = time.monotonic()
        other.call(
            other.app.state.conversations.deliver(
                conversation_id=conversation,
                channel="web",
                messages=[BotMessage(text="专家：您好")],
            )
        )
        [expert] = stream.wait_for(1, timeout=10)
        assert expert["text"] == "专家：您好"
        assert time.monotonic() - started < 2.0
    finally:
        stream.close()
