"""Images and files sent on WeChat while registering: fetched through ``media/get`` and stored
as the customer's documents, then announced to the bot (channels/chat_uploads.py), so that its
form takes them as the material it asked for.

A follower without a customer record gets the usual acknowledgement (the file stays in the
transcript). A repeat of the same message (WeChat retries after 5 s) is fetched and stored
once: its key is the MsgId. What cannot be fetched or stored is answered in Chinese, and no bot
turn is spent.
"""

import logging
from dataclasses import replace

import requests
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from wechatpy.messages import BaseMessage

from channels.chat_uploads import announcement, store_chat_upload, upload_root
from channels.contracts import Incoming
from channels.gateway import BotMessage
from channels.settings import ChannelSettings
from channels.wechat.client import ApiClient, WeChatApiError, get_media
from desk.customers.service import customer_for_conversation
from desk.errors import DeskError
from desk.uploads.models import Document
from desk.uploads.service import stored_upload
from desk.uploads.settings import get_upload_settings

log = logging.getLogger(__name__)

KINDS = ("image", "file")
FETCH_FAILED = "抱歉，没能取到您发送的文件，请稍后重新发送一次。"
SHOWN = {"image": "[图片] {name}", "file": "[文件] {name}"}


def _refusal(incoming: Incoming, text: str) -> Incoming:
    return replace(incoming, bot_text=None, local_replies=(BotMessage(text=text),))


async def attach(
    incoming: Incoming,
    message: BaseMessage,
    *,
    client: ApiClient | None,
    sessions: sessionmaker[Session],
    settings: ChannelSettings,
) -> Incoming:
    """The incoming image or file as an upload announced to the bot, when its sender is a
    registering customer; otherwise ``incoming`` unchanged."""
    media_id = str(message._data.get("MediaId") or "")
    if incoming.kind not in KINDS or not media_id or client is None:
        return incoming

    source_key = f"upload:{incoming.dedupe_key}" if incoming.dedupe_key else None

    def shown(document: Document) -> Incoming:
        return announcement(
            document,
            conversation_id=incoming.conversation_id,
            channel=incoming.channel,
            dedupe_key=incoming.dedupe_key,
            shown=SHOWN[incoming.kind].format(name=document.original_name),
        )

    def known() -> tuple[bool, Incoming | None]:
        """Whether the sender is registering, and the announcement of this very message when
        WeChat retries one already stored (not fetched again)."""
        with sessions() as session:
            found = customer_for_conversation(session, conversation_id=incoming.conversation_id)
            if found is None:
                return False, None
            stored = stored_upload(session, source_key=source_key) if source_key else None
            return True, shown(stored) if stored is not None else None

    registering, repeat = await run_in_threadpool(known)
    if not registering:
        return incoming
    if repeat is not None:
        return repeat
    try:
        media = await run_in_threadpool(get_media, client, media_id)
    except (WeChatApiError, requests.RequestException, OSError) as exc:  # sent again later
        log.warning(
            "wechat media not fetched conversation=%s error=%r", incoming.conversation_id, exc
        )
        return _refusal(incoming, FETCH_FAILED)
    upload_settings = get_upload_settings()
    title = str(message._data.get("Title") or "") or media.filename
    name = title or ("微信图片.jpg" if incoming.kind == "image" else "微信文件")

    def store() -> Incoming:
        with sessions() as session:
            document = store_chat_upload(
                session,
                conversation_id=incoming.conversation_id,
                content=media.content,
                filename=name,
                source_key=source_key,
                actor="wechat",
                root=upload_root(settings, upload_settings),
                max_bytes=upload_settings.max_bytes,
            )
            return shown(document)

    try:
        return await run_in_threadpool(store)
    except DeskError as exc:  # too large, not PDF/JPEG/PNG, empty: said in Chinese
        return _refusal(incoming, exc.message)
