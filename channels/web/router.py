"""Web chat: the page, POST /api/chat/messages (DESIGN §4), the history and the live stream.

The stream (``GET /api/chat/stream``, Server-Sent Events) carries what reaches a conversation
after its turn answered: replies to messages kept while the bot was down or slow, an expert's
words. Every event has the transcript row's id; a browser that reconnects sends the last id it
saw (``Last-Event-ID``) and gets everything after it, so a network drop loses nothing.
"""

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Query, Request, status
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from channels import transcript
from channels.contracts import Incoming
from channels.conversations import Conversations
from channels.deps import ChannelSettingsDep as SettingsDep
from channels.metrics import observe_turn
from channels.rate_limits import RateLimits
from channels.web import uploads
from desk.db import get_sessionmaker
from desk.deps import SessionDep
from desk.live.notifier import Notifier

STATIC = Path(__file__).resolve().parent / "static"
CONVERSATION_ID = r"^web:[A-Za-z0-9_-]{6,64}$"
LATER = "助手正在处理您的消息，回复稍后会自动显示在这里。"
HEARTBEAT_S = 15.0

router = APIRouter(tags=["web chat"])


class ChatIn(BaseModel):
    conversation_id: str = Field(pattern=CONVERSATION_ID, description="web:<uuid>")
    text: str = Field(min_length=1, max_length=1000)
    display: str | None = Field(
        default=None,
        max_length=200,
        description="what the user saw: a quick-reply button's title (text is its payload)",
    )
    message_id: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_-]{6,64}$",
        description="the page's id of this message: a resend after a network drop is ignored",
    )


class ChatOut(BaseModel):
    messages: list[dict[str, Any]]


class WebDeliverer:
    """The web page is reached later through the transcript and its stream: nothing to queue."""

    def on_contact(self, session: Any, incoming: Incoming) -> None:
        return None

    def enqueue(
        self,
        session: Any,
        *,
        conversation_id: str,
        messages: list[dict[str, Any]],
        inbound_id: int | None,
    ) -> None:
        return None

    async def wake(self) -> None:
        return None


@router.get("/", include_in_schema=False)
def page() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")


# The page's own assets beside index.html (the catalogue panel, the upload button); a fixed
# list, no paths.
ASSETS = {
    "catalogue.js": "text/javascript; charset=utf-8",
    "catalogue.css": "text/css; charset=utf-8",
    "upload.js": "text/javascript; charset=utf-8",
    "privacy.js": "text/javascript; charset=utf-8",
}


@router.get("/static/{name}", include_in_schema=False)
def asset(name: str) -> FileResponse:
    media_type = ASSETS.get(name)
    if media_type is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, detail={"code": "not_found", "message": "文件不存在"}
        )
    return FileResponse(STATIC / name, media_type=media_type, headers={"Cache-Control": "no-cache"})


@router.post(
    "/api/chat/messages",
    response_model=ChatOut,
    responses={429: {"description": "发送过于频繁（Retry-After 秒后再试）"}},
)
async def post_message(
    body: ChatIn, request: Request, settings: SettingsDep
) -> ChatOut | JSONResponse:
    started = time.perf_counter()
    limits: RateLimits = request.app.state.rate_limits
    address = request.client.host if request.client else None
    decision = await limits.message(conversation_id=body.conversation_id, address=address)
    if not decision.allowed:
        observe_turn("web", "rate_limited", 0.0)
        return JSONResponse(
            status_code=429,
            content={"detail": {"code": "rate_limited", "message": decision.message}},
            headers={"Retry-After": str(decision.retry_after_s)},
        )
    conversations: Conversations = request.app.state.conversations
    text = body.text.strip() or body.text
    key = f"{body.conversation_id}:{body.message_id}" if body.message_id else None
    shown = (body.display or "").strip()
    incoming = Incoming(
        conversation_id=body.conversation_id,
        channel="web",
        text=shown or text,
        bot_text=text,
        dedupe_key=key,
        payload={"payload": text} if shown else {},
    )
    outcome = await conversations.handle(incoming, deadline_s=settings.web_reply_deadline_s)
    observe_turn("web", outcome.state, time.perf_counter() - started)
    if outcome.state == "later":
        return ChatOut(
            messages=[{"sender": "system", "text": LATER, "buttons": [], "pending": True}]
        )
    return ChatOut(messages=outcome.messages)


@router.get("/api/chat/history", response_model=ChatOut)
def get_history(
    session: SessionDep,
    conversation_id: Annotated[str, Query(pattern=CONVERSATION_ID)],
) -> ChatOut:
    rows = transcript.history(session, conversation_id=conversation_id)
    return ChatOut(messages=[transcript.public(r) for r in rows])


@router.get("/api/chat/stream", response_class=StreamingResponse)
async def stream(
    request: Request,
    settings: SettingsDep,
    conversation_id: Annotated[str, Query(pattern=CONVERSATION_ID)],
    after: Annotated[int | None, Query(ge=0)] = None,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    assert settings.database_url is not None
    sessions = get_sessionmaker(settings.database_url)
    notifier: Notifier = request.app.state.notifier

    def latest() -> int:
        with sessions() as session:
            return transcript.latest_id(session, conversation_id=conversation_id)

    def newer(cursor: int) -> list[dict[str, Any]]:
        with sessions() as session:
            rows = transcript.replies_after(session, conversation_id=conversation_id, cursor=cursor)
            return [transcript.public(r) for r in rows]

    if last_event_id and last_event_id.isdigit():
        start = int(last_event_id)
    else:
        start = after if after is not None else await run_in_threadpool(latest)

    async def events() -> AsyncIterator[str]:
        cursor = start
        yield "retry: 3000\n\n"
        with notifier.subscription(conversation_id) as wake:
            quiet = 0.0
            while not await request.is_disconnected():
                wake.clear()
                for item in await run_in_threadpool(newer, cursor):
                    cursor = item["id"]
                    quiet = 0.0
                    data = json.dumps(item, ensure_ascii=False)
                    yield f"id: {cursor}\nevent: message\ndata: {data}\n\n"
                try:
                    await asyncio.wait_for(wake.wait(), timeout=settings.chat_stream_poll_s)
                except TimeoutError:
                    quiet += settings.chat_stream_poll_s
                if quiet >= HEARTBEAT_S:
                    quiet = 0.0
                    yield ": ping\n\n"

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


router.include_router(uploads.router)  # POST /api/chat/uploads
