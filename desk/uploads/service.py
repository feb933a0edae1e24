"""Store an uploaded file and its metadata row; keyword-only, free of HTTP."""

import hashlib
import logging
import re
import unicodedata
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from desk import audit
from desk.errors import DeskError, InvalidInput, NotFound
from desk.uploads import storage
from desk.uploads.models import Document
from desk.uploads.sniff import ALLOWED, FileType, sniff

log = logging.getLogger(__name__)
NAME_LIMIT = 120
_UNSAFE = re.compile(r"[\x00-\x1f\x7f<>:\"|?*]")


class FileTooLarge(DeskError):
    code = "file_too_large"
    status = 413


class UnsupportedFileType(DeskError):
    code = "unsupported_file_type"
    status = 415


def human_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.3g} MB"
    return f"{size / 1024:.3g} KB" if size >= 1024 else f"{size} 字节"


def too_large(max_bytes: int) -> FileTooLarge:
    return FileTooLarge(f"文件大小超过上限（{human_size(max_bytes)}），请压缩后重新上传。")


def sanitise_name(raw: str | None) -> str:
    """A display name: no folders, control or reserved characters, at most 120 characters."""
    name = unicodedata.normalize("NFC", raw or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("", name).strip().lstrip(".").strip()
    if len(name) > NAME_LIMIT:
        stem, dot, ext = name.rpartition(".")
        name = (
            (stem[: NAME_LIMIT - len(ext) - 1] + dot + ext)
            if dot and len(ext) <= 10
            else (name[:NAME_LIMIT])
        )
    return name or "未命名文件"


def checked_type(content: bytes, *, max_bytes: int) -> FileType:
    """The sniffed type of an upload that is neither empty nor too large, or a Chinese refusal."""
    if not content:
        raise InvalidInput("上传的文件为空，请重新选择文件。", code="file_empty")
    if len(content) > max_bytes:
        raise too_large(max_bytes)
    file_type = sniff(content)
    if file_type is None:
        allowed = "、".join(t.label for t in ALLOWED)
        raise UnsupportedFileType(f"仅支持 {allowed} 格式的文件（按文件内容识别，与扩展名无关）。")
    return file_type


def store_document(
    session: Session,
    *,
    customer_id: int,
    kind: str,
    content: bytes,
    original_name: str | None,
    root: Path,
    max_bytes: int,
    actor: str,
    source_key: str | None = None,
) -> Document:
    """Check size and sniffed type, write the bytes under ``root``, add the row (commits).

    With a ``source_key`` (a chat upload's own id) the same upload is stored once: a repeat
    gets the row stored the first time."""
    if source_key and (known := _by_source(session, source_key)) is not None:
        return known
    file_type = checked_type(content, max_bytes=max_bytes)
    storage_name = storage.new_storage_name()
    document = Document(
        customer_id=customer_id,
        kind=kind,
        media_type=file_type.media_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        original_name=sanitise_name(original_name),
        storage_name=storage_name,
        uploaded_by=actor,
        source_key=source_key,
    )
    storage.write(root, storage_name, content)
    try:
        session.add(document)
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="document.upload",
            subject=f"customer:{customer_id}",
            details={
                "document_id": document.id,
                "kind": kind,
                "sha256": document.sha256,
                "size": document.size,
            },
        )
        session.commit()
    except IntegrityError:
        session.rollback()
        storage.remove(root, storage_name)
        if source_key and (known := _by_source(session, source_key)) is not None:
            return known  # the same upload, stored by a concurrent request
        raise
    except BaseException:
        session.rollback()
        storage.remove(root, storage_name)
        raise
    log.info(
        "document stored customer=%s id=%s kind=%s type=%s size=%d",
        customer_id,
        document.id,
        kind,
        file_type.media_type,
        document.size,
    )
    return document


def _by_source(session: Session, source_key: str) -> Document | None:
    return session.scalar(select(Document).where(Document.source_key == source_key))


def stored_upload(session: Session, *, source_key: str) -> Document | None:
    """The document a chat upload with this key was stored as, if it already was."""
    return _by_source(session, source_key)


def list_documents(session: Session, *, customer_id: int) -> list[Document]:
    query = select(Document).where(Document.customer_id == customer_id).order_by(Document.id)
    return list(session.scalars(query))


def get_document(session: Session, *, customer_id: int, document_id: int) -> Document:
    document = session.get(Document, document_id)
    if document is None or document.customer_id != customer_id:
        raise NotFound("未找到该材料。")
    return document


def document_path(document: Document, *, root: Path) -> Path:
    return storage.resolve(root, document.storage_name)
