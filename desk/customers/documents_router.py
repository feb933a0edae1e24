"""HTTP routes of a customer's documents (营业执照, 资质证书 …): upload, list, download."""

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from desk.customers import documents
from desk.customers.access import reachable_customer
from desk.customers.models import DOCUMENT_KIND_LABELS
from desk.customers.schemas import DOCUMENT_KINDS, DocumentPublic, DocumentUpdate
from desk.deps import DeskReadDep, SessionDep, SettingsDep, StaffDep
from desk.errors import InvalidInput, NotFound
from desk.provided import from_app
from desk.uploads import service as uploads
from desk.uploads.models import Document
from desk.uploads.receive import read_upload
from desk.uploads.settings import UploadSettings, get_upload_settings

router = APIRouter(prefix="/api/customers", tags=["customers"])
ConversationQuery = Annotated[str | None, Query(max_length=80)]
UploadsDep = Annotated[UploadSettings, Depends(from_app(get_upload_settings))]


def _document_view(document: Document) -> DocumentPublic:
    view = DocumentPublic.model_validate(document)
    view.kind_label = DOCUMENT_KIND_LABELS.get(document.kind, document.kind)
    return view


def _upload_root(settings: SettingsDep, upload_settings: UploadsDep) -> Path:
    return upload_settings.dir or settings.var_dir / "uploads"


UploadRoot = Annotated[Path, Depends(_upload_root)]


@router.post(
    "/{customer_id}/documents",
    response_model=DocumentPublic,
    status_code=status.HTTP_201_CREATED,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["kind", "file"],
                        "properties": {
                            "kind": {"type": "string", "enum": list(DOCUMENT_KINDS)},
                            "file": {"type": "string", "format": "binary"},
                        },
                    }
                }
            },
        }
    },
)
async def upload_document(
    customer_id: int,
    request: Request,
    session: SessionDep,
    caller: DeskReadDep,
    upload_settings: UploadsDep,
    root: UploadRoot,
    conversation_id: ConversationQuery = None,
) -> DocumentPublic:
    """营业执照, 资质证书, 诚信承诺书 …: PDF, JPEG or PNG by content, at most the size limit."""
    await run_in_threadpool(reachable_customer, session, caller, customer_id, conversation_id)
    upload = await read_upload(request, max_bytes=upload_settings.max_bytes)
    kind = upload.fields.get("kind", "").strip()
    if kind not in DOCUMENT_KINDS:
        raise InvalidInput(
            f"材料类型应为：{'、'.join(DOCUMENT_KIND_LABELS.values())}",
            code="document_kind_invalid",
        )
    document = await run_in_threadpool(
        lambda: uploads.store_document(
            session,
            customer_id=customer_id,
            kind=kind,
            content=upload.content,
            original_name=upload.filename,
            root=root,
            max_bytes=upload_settings.max_bytes,
            actor=caller.username,
        )
    )
    return _document_view(document)


@router.get("/{customer_id}/documents", response_model=list[DocumentPublic])
def list_documents(
    customer_id: int,
    session: SessionDep,
    caller: DeskReadDep,
    conversation_id: ConversationQuery = None,
) -> list[DocumentPublic]:
    reachable_customer(session, caller, customer_id, conversation_id)
    return [_document_view(d) for d in uploads.list_documents(session, customer_id=customer_id)]


@router.patch("/{customer_id}/documents/{document_id}", response_model=DocumentPublic)
def relabel_document(
    customer_id: int,
    document_id: int,
    body: DocumentUpdate,
    session: SessionDep,
    caller: DeskReadDep,
    conversation_id: ConversationQuery = None,
) -> DocumentPublic:
    """What the file is (the bot labels a chat upload with the material it asked for)."""
    reachable_customer(session, caller, customer_id, conversation_id)
    document = documents.relabel(
        session,
        customer_id=customer_id,
        document_id=document_id,
        kind=body.kind,
        actor=caller.username,
    )
    return _document_view(document)


@router.get("/{customer_id}/documents/{document_id}/content", response_class=FileResponse)
def document_content(
    customer_id: int, document_id: int, session: SessionDep, _staff: StaffDep, root: UploadRoot
) -> FileResponse:
    """The file itself, for the reviewer; always as a download, never rendered inline."""
    document = uploads.get_document(session, customer_id=customer_id, document_id=document_id)
    path = uploads.document_path(document, root=root)
    if not path.is_file():
        raise NotFound("材料文件已不存在，请让用户重新上传。")
    return FileResponse(
        path,
        media_type=document.media_type,
        filename=document.original_name,
        headers={"X-Content-Type-Options": "nosniff"},
    )
