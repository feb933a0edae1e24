"""A file sent in a chat (web chat's upload button, a WeChat image or file) becomes one of the
customer's documents, and the bot is told it arrived, so that its form goes on.

The file is stored through the desk's uploads (sniffed type, size limit, random name outside the
web root) as "other"; the bot labels it with the material it asked for (营业执照, 资质证书 …).
Each upload has its own key (the page's message id, WeChat's MsgId): a repeat is stored once.
"""

import json
import logging
from pathlib import Path

from sqlalchemy.orm import Session

from channels.contracts import Incoming
from desk.customers.service import customer_for_conversation
from desk.errors import DeskError
from desk.settings import DeskSettings
from desk.uploads import service as uploads
from desk.uploads.models import Document
from desk.uploads.settings import UploadSettings

log = logging.getLogger(__name__)

UNLINKED = "请先在对话中填写注册信息（回复“我要注册”），登记后再上传材料。"


class NotRegistered(DeskError):
    """The conversation has no customer yet: nothing to attach the file to."""

    code = "not_registered"
    status = 409


def upload_root(settings: DeskSettings, upload_settings: UploadSettings) -> Path:
    return upload_settings.dir or settings.var_dir / "uploads"


def store_chat_upload(
    session: Session,
    *,
    conversation_id: str,
    content: bytes,
    filename: str | None,
    source_key: str | None,
    actor: str,
    root: Path,
    max_bytes: int,
) -> Document:
    """The file as a document of the conversation's customer (commits); refusals in Chinese:
    not registered 409, too large 413, not PDF/JPEG/PNG 415, empty 422."""
    customer = customer_for_conversation(session, conversation_id=conversation_id)
    if customer is None:
        raise NotRegistered(UNLINKED)
    document = uploads.store_document(
        session,
        customer_id=customer.id,
        kind="other",
        content=content,
        original_name=filename,
        root=root,
        max_bytes=max_bytes,
        actor=actor,
        source_key=source_key,
    )
    log.info(
        "chat upload stored conversation=%s document=%s type=%s size=%d",
        conversation_id,
        document.id,
        document.media_type,
        document.size,
    )
    return document


def announcement(
    document: Document, *, conversation_id: str, channel: str, dedupe_key: str | None, shown: str
) -> Incoming:
    """The bot's turn for an upload: ``/upload_document{"document_id": "…"}``; the transcript
    keeps ``shown`` (what the user sees: the file's name)."""
    entities = json.dumps({"document_id": str(document.id)})
    return Incoming(
        conversation_id=conversation_id,
        channel=channel,
        text=shown,
        bot_text=f"/upload_document{entities}",
        dedupe_key=dedupe_key,
        kind="document",
        payload={
            "kind": "document",
            "document_id": document.id,
            "media_type": document.media_type,
            "size": document.size,
        },
    )
