"""Web chat: the page, POST /api/chat/messages (DESIGN §4) and the history of a conversation."""

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from channels import transcript
from channels.gateway import BotMessage, BotUnavailable, RasaGateway
from desk.deps import SessionDep

STATIC = Path(__file__).resolve().parent / "static"
CONVERSATION_ID = r"^web:[A-Za-z0-9_-]{6,64}$"

router = APIRouter(tags=["web chat"])


class ChatIn(BaseModel):
    conversation_id: str = Field(pattern=CONVERSATION_ID, description="web:<uuid>")
    text: str = Field(min_length=1, max_length=1000)


class ChatOut(BaseModel):
    messages: list[dict[str, Any]]


def _store(session: Session, conversation_id: str, sender: str,
           messages: list[BotMessage], user_text: str | None = None) -> None:
    if user_text is not None:
        transcript.record(session, conversation_id=conversation_id, channel="web",
                          sender="user", text=user_text)
    for message in messages:
        payload: dict[str, Any] = {"buttons": message.buttons}
        if message.custom:
            payload["custom"] = message.custom
        transcript.record(session, conversation_id=conversation_id, channel="web",
                          sender=sender, text=message.text, payload=payload)
    session.commit()


@router.get("/", include_in_schema=False)
def page() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")


@router.post("/api/chat/messages", response_model=ChatOut)
async def post_message(body: ChatIn, request: Request, session: SessionDep) -> ChatOut:
    gateway: RasaGateway = request.app.state.gateway
    text = body.text.strip() or body.text
    await run_in_threadpool(_store, session, body.conversation_id, "bot", [], text)
    try:
        replies = await gateway.turn(body.conversation_id, text)
        sender = "bot"
    except BotUnavailable as exc:
        replies, sender = [BotMessage(text=str(exc))], "system"
    await run_in_threadpool(_store, session, body.conversation_id, sender, replies)
    return ChatOut(messages=[m.public() for m in replies])


@router.get("/api/chat/history", response_model=ChatOut)
def get_history(
    session: SessionDep,
    conversation_id: Annotated[str, Query(pattern=CONVERSATION_ID)],
) -> ChatOut:
    rows = transcript.history(session, conversation_id=conversation_id)
    return ChatOut(messages=[
        {"sender": r.sender, "text": r.text, "buttons": r.payload.get("buttons", []),
         "at": r.created_at.isoformat()}
        for r in rows
    ])
