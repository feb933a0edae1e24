"""Local HTTP servers for the channel tests.

* :class:`ServerThread` serves an ASGI app (our own app, too) with uvicorn on a loopback port.
* :func:`fake_rasa_app` answers like Rasa's REST webhook (same reply format, a tracker with
  the request metadata, the action server's /health) with a configurable delay: a timing double,
  the real Rasa runs in tests/e2e. It also takes tracker events and runs scripted actions
  (``POST /conversations/{id}/tracker/events`` and ``/execute``, Rasa 3.6's shapes), checking
  the API token when one is set.
* :func:`wechat_api_app` plays WeChat's API, which cannot be reached from here (the one stand-in
  the issue allows): it issues access tokens, refuses stale ones with 40001, checks the payloads
  of customer-service messages and menus, and answers scripted error codes (45015 …).
"""

import asyncio
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from channels.wechat.menu import menu_problems
from tests.support import free_port


class ServerThread:
    def __init__(self, app: Any, port: int | None = None) -> None:
        self.app = app
        self.port = port or free_port()
        self.loop: asyncio.AbstractEventLoop | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "ServerThread":
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="on",
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)

        def run() -> None:
            self.loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self.loop)
            assert self._server is not None
            self.loop.run_until_complete(self._server.serve())

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.02)
        return self

    def call(self, coroutine: Any, timeout: float = 30) -> Any:
        """Run a coroutine on the server's event loop (to reach the app's state)."""
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(15)
        self._server = self._thread = None


# -- Rasa ----------------------------------------------------------------------------------


@dataclass
class FakeRasa:
    delay_s: float = 0.0
    actions_up: bool = True
    actions_state: str = "ok"  # what the action server's /health says: ok, warming, failed
    script: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    trackers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    reply: Callable[[str], list[dict[str, Any]]] | None = None
    token: str | None = None  # when set, the tracker endpoints want ?token=
    appended: list[tuple[str, Any]] = field(default_factory=list)  # (sender, body)
    executed: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    actions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # name -> messages
    in_flight: list[str] = field(default_factory=list)  # senders whose turn runs now
    most_in_flight: int = 0  # the most turns that ran at once
    overlapped: list[str] = field(default_factory=list)  # senders with two turns at once

    def replies_for(self, text: str) -> list[dict[str, Any]]:
        if text in self.script:
            return self.script[text]
        if self.reply is not None:
            return self.reply(text)
        return [{"text": f"收到：{text}"}]

    def messages(self, sender: str | None = None) -> list[str]:
        return [m for s, m, _ in self.calls if sender is None or s == sender]


def fake_rasa_app(rasa: FakeRasa) -> Starlette:
    async def webhook(request: Request) -> Response:
        body = await request.json()
        sender, text = body["sender"], body["message"]
        metadata = body.get("metadata") or {}
        rasa.calls.append((sender, text, metadata))
        if sender in rasa.in_flight:
            rasa.overlapped.append(sender)
        rasa.in_flight.append(sender)
        rasa.most_in_flight = max(rasa.most_in_flight, len(rasa.in_flight))
        try:
            await asyncio.sleep(rasa.delay_s)  # like Rasa, it finishes even if the caller left
        finally:
            rasa.in_flight.remove(sender)
        replies = rasa.replies_for(text)
        events = rasa.trackers.setdefault(sender, [])
        events.append({"event": "user", "text": text, "metadata": metadata})
        for item in replies:
            data = {k: v for k, v in item.items() if k != "text"}
            events.append({"event": "bot", "text": item.get("text"), "data": data})
        return JSONResponse([{"recipient_id": sender, **item} for item in replies])

    async def tracker(request: Request) -> Response:
        sender = request.path_params["sender"]
        return JSONResponse({"sender_id": sender, "events": rasa.trackers.get(sender, [])})

    def refused(request: Request) -> Response | None:
        if rasa.token is not None and request.query_params.get("token") != rasa.token:
            return JSONResponse({"status": "failure", "reason": "NotAuthenticated"}, 401)
        return None

    async def append_events(request: Request) -> Response:
        if (answer := refused(request)) is not None:
            return answer
        sender = request.path_params["sender"]
        body = await request.json()
        rasa.appended.append((sender, body))
        rasa.trackers.setdefault(sender, []).extend(body if isinstance(body, list) else [body])
        return JSONResponse({"sender_id": sender, "events": None})

    async def execute(request: Request) -> Response:
        if (answer := refused(request)) is not None:
            return answer
        sender = request.path_params["sender"]
        body = await request.json()
        rasa.executed.append((sender, body))
        name = body.get("name")
        if name not in rasa.actions:
            return JSONResponse({"status": "failure", "message": f"no action {name}"}, 500)
        messages = [{"recipient_id": sender, **m} for m in rasa.actions[name]]
        events = rasa.trackers.setdefault(sender, [])
        events.append({"event": "action", "name": name})
        events.extend({"event": "bot", "text": m.get("text"), "data": {}} for m in messages)
        return JSONResponse(
            {"tracker": {"sender_id": sender, "events": None}, "messages": messages}
        )

    async def health(_request: Request) -> Response:
        state = rasa.actions_state
        return JSONResponse({"status": state}, status_code=200 if rasa.actions_up else 503)

    async def hello(_request: Request) -> Response:  # Rasa's own root answer
        return PlainTextResponse("Hello from Rasa: 3.6.21")

    return Starlette(
        routes=[
            Route("/webhooks/rest/webhook", webhook, methods=["POST"]),
            Route("/conversations/{sender}/tracker", tracker),
            Route("/conversations/{sender}/tracker/events", append_events, methods=["POST"]),
            Route("/conversations/{sender}/execute", execute, methods=["POST"]),
            Route("/health", health),
            Route("/", hello),
        ]
    )


# -- WeChat's API --------------------------------------------------------------------------


@dataclass
class FakeWeChat:
    app_id: str
    secret: str
    tokens_issued: list[str] = field(default_factory=list)
    valid: set[str] = field(default_factory=set)
    sent: list[tuple[str, str]] = field(default_factory=list)  # (openid, content)
    received_at: list[float] = field(default_factory=list)  # time.monotonic() of each of sent
    send_attempts: int = 0
    errors: list[int] = field(default_factory=list)  # next answers to message/custom/send
    refused: list[tuple[str, str, int]] = field(default_factory=list)  # (openid, content, code)
    menus: list[dict[str, Any]] = field(default_factory=list)
    send_delay_s: float = 0.0
    problems: list[str] = field(default_factory=list)
    templates: set[str] = field(default_factory=set)  # template ids the account has
    template_errors: list[int] = field(default_factory=list)
    template_sent: list[dict[str, Any]] = field(default_factory=list)  # the request bodies
    media: dict[str, tuple[bytes, str, str]] = field(default_factory=dict)  # id: bytes, type, name
    media_fetched: list[str] = field(default_factory=list)  # media ids, each time one is fetched

    def revoke_all(self) -> None:
        self.valid.clear()

    def texts(self, openid: str | None = None) -> list[str]:
        return [c for o, c in self.sent if openid is None or o == openid]

    def forget(self, openid: str) -> None:
        """Drop the customer-service messages sent to ``openid`` so far."""
        kept = [(m, t) for m, t in zip(self.sent, self.received_at, strict=True) if m[0] != openid]
        self.sent = [m for m, _ in kept]
        self.received_at = [t for _, t in kept]

    def received(self, openid: str, content: str) -> list[float]:
        """When each customer-service message with exactly this content reached the openid."""
        return [
            t
            for (o, c), t in zip(self.sent, self.received_at, strict=True)
            if (o, c) == (openid, content)
        ]


def wechat_api_app(wechat: FakeWeChat) -> Starlette:
    def error(code: int, message: str) -> JSONResponse:
        return JSONResponse({"errcode": code, "errmsg": message})

    async def token(request: Request) -> Response:
        params = request.query_params
        if params.get("grant_type") != "client_credential":
            return error(40002, "invalid grant_type")
        if params.get("appid") != wechat.app_id or params.get("secret") != wechat.secret:
            return error(40013, "invalid appid or secret")
        issued = f"ACCESS-{len(wechat.tokens_issued) + 1}-{wechat.app_id}"
        wechat.tokens_issued.append(issued)
        wechat.valid.add(issued)
        return JSONResponse({"access_token": issued, "expires_in": 7200})

    async def custom_send(request: Request) -> Response:
        wechat.send_attempts += 1
        if request.query_params.get("access_token") not in wechat.valid:
            return error(40001, "invalid credential, access_token is invalid or not latest")
        await asyncio.sleep(wechat.send_delay_s)
        try:
            body = json.loads((await request.body()).decode("utf-8"))
        except ValueError:
            return error(47001, "data format error")
        content = (body.get("text") or {}).get("content")
        if body.get("msgtype") != "text" or not isinstance(content, str) or not content:
            wechat.problems.append(f"bad payload {body!r}")
            return error(47001, "data format error")
        if not str(body.get("touser", "")):
            return error(40003, "invalid openid")
        if len(content.encode()) > 2048:
            wechat.problems.append(f"{len(content.encode())} bytes")
            return error(45002, "content size out of limit")
        if wechat.errors:
            code = wechat.errors.pop(0)
            wechat.refused.append((body["touser"], content, code))
            return error(code, "scripted")
        wechat.sent.append((body["touser"], content))
        wechat.received_at.append(time.monotonic())
        return error(0, "ok")

    async def template_send(request: Request) -> Response:
        if request.query_params.get("access_token") not in wechat.valid:
            return error(40001, "invalid credential, access_token is invalid or not latest")
        try:
            body = json.loads((await request.body()).decode("utf-8"))
        except ValueError:
            return error(47001, "data format error")
        if not str(body.get("touser", "")):
            return error(40003, "invalid openid")
        if body.get("template_id") not in wechat.templates:
            return error(40037, "invalid template_id")
        data = body.get("data")
        if not isinstance(data, dict) or not all(
            isinstance(v, dict) and isinstance(v.get("value"), str) for v in data.values()
        ):
            wechat.problems.append(f"bad template data {data!r}")
            return error(47001, "data format error")
        if wechat.template_errors:
            return error(wechat.template_errors.pop(0), "scripted")
        wechat.template_sent.append(body)
        return JSONResponse({"errcode": 0, "errmsg": "ok", "msgid": len(wechat.template_sent)})

    async def media_get(request: Request) -> Response:
        """Temporary media (临时素材) as WeChat serves it: the bytes with a file name, or JSON."""
        if request.query_params.get("access_token") not in wechat.valid:
            return error(40001, "invalid credential, access_token is invalid or not latest")
        media_id = request.query_params.get("media_id", "")
        if media_id not in wechat.media:
            return error(40007, "invalid media_id")
        wechat.media_fetched.append(media_id)
        content, media_type, name = wechat.media[media_id]
        return Response(
            content,
            media_type=media_type,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    async def menu_create(request: Request) -> Response:
        if request.query_params.get("access_token") not in wechat.valid:
            return error(40001, "invalid credential")
        menu = json.loads((await request.body()).decode("utf-8"))
        problems = menu_problems(menu)
        if problems:
            wechat.problems.extend(problems)
            return error(40016, "invalid button size")
        wechat.menus.append(menu)
        return error(0, "ok")

    return Starlette(
        routes=[
            Route("/cgi-bin/token", token),
            Route("/cgi-bin/message/custom/send", custom_send, methods=["POST"]),
            Route("/cgi-bin/menu/create", menu_create, methods=["POST"]),
            Route("/cgi-bin/message/template/send", template_send, methods=["POST"]),
            Route("/cgi-bin/media/get", media_get),
        ]
    )


def wait_until(check: Callable[[], Any], timeout: float = 10.0, step: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(step)
