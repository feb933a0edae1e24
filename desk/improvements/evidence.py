"""Files of evidence for an improvement item, kept like every upload (desk/uploads): sniffed by
content, size-limited, random names under the upload folder, written whole or not at all."""

import hashlib
from pathlib import Path

from sqlalchemy.orm import Session

from desk import cases
from desk.errors import NotFound
from desk.improvements.models import ImprovementFile
from desk.improvements.service import ITEMS, get_item
from desk.uploads import storage
from desk.uploads.service import checked_type, sanitise_name


def add_file(
    session: Session,
    *,
    number: str,
    content: bytes,
    original_name: str | None,
    root: Path,
    max_bytes: int,
    actor: str,
) -> ImprovementFile:
    item = get_item(session, number=number)
    if item.status == "closed":
        raise cases.IllegalTransition("改进事项已关闭，不能再添加证据。")
    file_type = checked_type(content, max_bytes=max_bytes)
    row = ImprovementFile(
        item_id=item.id,
        media_type=file_type.media_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        original_name=sanitise_name(original_name),
        storage_name=storage.new_storage_name(),
        uploaded_by=actor,
    )
    storage.write(root, row.storage_name, content)
    try:
        session.add(row)
        session.flush()
        cases.record_step(
            session,
            ITEMS,
            item,
            actor=actor,
            note=f"上传整改证据：{row.original_name}",
            action="evidence",
            details={"file_id": row.id, "sha256": row.sha256, "size": row.size},
        )
        session.commit()
    except BaseException:
        session.rollback()
        storage.remove(root, row.storage_name)
        raise
    return row


def get_file(session: Session, *, number: str, file_id: int) -> ImprovementFile:
    item = get_item(session, number=number)
    row = session.get(ImprovementFile, file_id)
    if row is None or row.item_id != item.id:
        raise NotFound("未找到该证据文件。")
    return row


def file_path(row: ImprovementFile, *, root: Path) -> Path:
    return storage.resolve(root, row.storage_name)
