"""Request bodies over the limit are refused with 413 before they are read whole.

JSON and form bodies may hold at most ``QCLINIC_MAX_BODY_BYTES`` (1 MiB: a knowledge entry or a
long complaint is a few KiB). Multipart uploads are limited by the uploads' own setting
(``QCLINIC_UPLOAD_MAX_BYTES``, desk/uploads/receive.py), so they pass through here. A declared
``Content-Length`` over the limit is refused at once; a chunked body is read up to the limit and
refused as soon as it passes it.
"""

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CODE = "body_too_large"
MESSAGE = "请求内容过大（上限 {limit}），请精简后重试。"


def _human(limit: int) -> str:
    return f"{limit // 1024} KB" if limit < 1024 * 1024 else f"{limit // (1024 * 1024)} MB"


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._exempt(scope):
            await self.app(scope, receive, send)
            return
        declared = self._declared_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(send)
            return
        body = bytearray()  # at most max_bytes: read here whole, then handed on as one message
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client left
                await self.app(scope, _replay(message), send)
                return
            body += message.get("body", b"")
            if len(body) > self.max_bytes:
                await self._refuse(send)
                return
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay_body(bytes(body), receive), send)

    @staticmethod
    def _exempt(scope: Scope) -> bool:
        for name, value in scope.get("headers", []):
            if name == b"content-type":
                return value.lower().startswith(b"multipart/form-data")
        return False

    @staticmethod
    def _declared_length(scope: Scope) -> int | None:
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    return int(value)
                except ValueError:
                    return None
        return None

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(
            {"detail": {"code": CODE, "message": MESSAGE.format(limit=_human(self.max_bytes))}},
            ensure_ascii=False,
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _replay(first: Message) -> Receive:
    async def receive() -> Message:
        return first

    return receive


def _replay_body(body: bytes, receive: Receive) -> Receive:
    """The body read ahead as one message, then the connection's own messages (disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
