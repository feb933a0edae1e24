"""``POST /api/chat/uploads``: a file from the web chat's upload button (营业执照, 身份证扫描件 …).

Read with the desk's hard size limit before anything is spooled (413), typed by its content
(415), stored as one of the conversation's customer's documents (409 before registration), and
then announced to the bot, whose replies this answers with, like ``POST /api/chat/messages``.
"""

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from channels.chat_uploads import announcement, store_chat_upload, upload_root
from channels.conversations import Conversations
from channels.deps import ChannelSettingsDep
from desk.deps import SessionDep, SettingsDep
from desk.errors import InvalidInput
from desk.provided import from_app
from desk.uploads.receive import read_upload
from desk.uploads.settings import UploadSettings, get_upload_settings

CONVERSATION_ID = re.compile(r"^web:[A-Za-z0-9_-]{6,64}$")
MESSAGE_ID = re.compile(r"^[A-Za-z0-9_-]{6,64}$")
SHOWN = "[上传材料] {name}"
LATER = "材料已收到，助手正在处理，回复稍后会自动显示在这里。"

router = APIRouter(tags=["web chat"])
UploadsDep = Annotated[UploadSettings, Depends(from_app(get_upload_settings))]


class UploadOut(BaseModel):
    document: dict[str, Any]
    messages: list[dict[str, Any]]


@router.post(
    "/api/chat/uploads",
    response_model=UploadOut,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["conversation_id", "file"],
                        "properties": {
                            "conversation_id": {"type": "string"},
                            "message_id": {"type": "string"},
                            "file": {"type": "string", "format": "binary"},
                        },
                    }
                }
            },
        }
    },
)
async def upload(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    channel_settings: ChannelSettingsDep,
    upload_settings: UploadsDep,
) -> UploadOut:
    received = await read_upload(request, max_bytes=upload_settings.max_bytes)
    conversation_id = received.fields.get("conversation_id", "")
    if not CONVERSATION_ID.match(conversation_id):
        raise InvalidInput("会话编号不正确，请重新进入对话后再试。", code="conversation_invalid")
    message_id = received.fields.get("message_id") or None
    if message_id is not None and not MESSAGE_ID.match(message_id):
        raise InvalidInput("上传编号不正确，请重新选择文件。", code="message_id_invalid")
    key = f"{conversation_id}:{message_id}" if message_id else None
    document = await run_in_threadpool(
        lambda: store_chat_upload(
            session,
            conversation_id=conversation_id,
            content=received.content,
            filename=received.filename,
            source_key=f"upload:{key}" if key else None,
            actor="web",
            root=upload_root(settings, upload_settings),
            max_bytes=upload_settings.max_bytes,
        )
    )
    conversations: Conversations = request.app.state.conversations
    incoming = announcement(
        document,
        conversation_id=conversation_id,
        channel="web",
        dedupe_key=key,
        shown=SHOWN.format(name=document.original_name),
    )
    outcome = await conversations.handle(incoming, deadline_s=channel_settings.web_reply_deadline_s)
    view = {
        "id": document.id,
        "name": document.original_name,
        "media_type": document.media_type,
        "size": document.size,
    }
    if outcome.state == "later":
        messages = [{"sender": "system", "text": LATER, "buttons": [], "pending": True}]
        return UploadOut(document=view, messages=messages)
    return UploadOut(document=view, messages=outcome.messages)
