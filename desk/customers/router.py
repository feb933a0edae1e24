"""HTTP routes of customers (§7.1) and consents; thin: map requests to the services.

The bot (service token) acts for one conversation: it sees a customer only through a conversation
linked to it, and gets personal numbers masked. Staff see everything in full.
"""

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import FileResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from desk.clock import now, today
from desk.customers import consents, reviews, service
from desk.customers.models import DOCUMENT_KIND_LABELS, Customer
from desk.customers.schemas import (
    DOCUMENT_KINDS,
    ConsentCreate,
    ConsentPublic,
    ConversationLink,
    CustomerCreate,
    CustomerKind,
    CustomerList,
    CustomerPublic,
    CustomerUpdate,
    DocumentPublic,
    NameChangeCreate,
    ReviewDecision,
    ReviewList,
    ReviewPublic,
    ReviewSubmit,
)
from desk.customers.settings import PrivacySettings, get_privacy_settings
from desk.deps import DeskReadDep, SessionDep, SettingsDep, StaffDep
from desk.errors import InvalidInput, NotFound
from desk.masking import sees_personal_data
from desk.uploads import service as uploads
from desk.uploads.models import Document
from desk.uploads.receive import read_upload
from desk.uploads.settings import UploadSettings, get_upload_settings
from desk.users.service import Principal

router = APIRouter(prefix="/api/customers", tags=["customers"])
consents_router = APIRouter(prefix="/api/consents", tags=["consents"])
ConversationQuery = Annotated[str | None, Query(max_length=80)]
PrivacyDep = Annotated[PrivacySettings, Depends(get_privacy_settings)]
UploadsDep = Annotated[UploadSettings, Depends(get_upload_settings)]
Verification = Annotated[str | None, Query(pattern="^(unverified|pending|approved|rejected)$")]
ReviewStatus = Annotated[str | None, Query(alias="status", pattern="^(pending|approved|rejected)$")]


def _is_bot(caller: Principal) -> bool:
    return caller.role == "service"


def _customer(
    session: Session, caller: Principal, customer_id: int, conversation_id: str | None
) -> Customer:
    if _is_bot(caller):
        return service.visible_customer(
            session, customer_id=customer_id, conversation_id=conversation_id
        )
    return service.get_customer(session, customer_id=customer_id)


def _view(session: Session, caller: Principal, customer: Customer) -> CustomerPublic:
    return service.public(
        customer,
        conversation_ids=service.conversation_ids(session, customer_id=customer.id),
        masked=not sees_personal_data(caller.role),
    )


def _document_view(document: Document) -> DocumentPublic:
    view = DocumentPublic.model_validate(document)
    view.kind_label = DOCUMENT_KIND_LABELS.get(document.kind, document.kind)
    return view


def _upload_root(settings: SettingsDep, upload_settings: UploadsDep) -> Path:
    return upload_settings.dir or settings.var_dir / "uploads"


UploadRoot = Annotated[Path, Depends(_upload_root)]


@router.post("", response_model=CustomerPublic, status_code=status.HTTP_201_CREATED)
def create_customer(
    body: CustomerCreate, session: SessionDep, caller: DeskReadDep, privacy: PrivacyDep
) -> CustomerPublic:
    if _is_bot(caller):
        if not body.conversation_id:
            raise InvalidInput("智能助手登记用户时须提供会话编号。", code="conversation_required")
        if privacy.require_consent:
            consents.require_consent(session, conversation_id=body.conversation_id)
    customer = service.create_customer(session, data=body, actor=caller.username)
    return _view(session, caller, customer)


@router.get("", response_model=CustomerList)
def list_customers(
    session: SessionDep,
    caller: StaffDep,
    kind: CustomerKind | None = None,
    verification: Verification = None,
    name: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> CustomerList:
    items = service.list_customers(
        session, kind=kind, verification=verification, name=name, limit=limit
    )
    return CustomerList(items=[_view(session, caller, c) for c in items])


@router.get("/reviews", response_model=ReviewList)
def review_queue(
    session: SessionDep,
    _staff: StaffDep,
    status_: ReviewStatus = None,
    overdue: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ReviewList:
    items = reviews.list_reviews(
        session, status=status_, overdue_on=today() if overdue else None, limit=limit
    )
    return ReviewList(items=[reviews.review_public(r, today=today()) for r in items])


@router.post("/reviews/{review_id}/decision", response_model=ReviewPublic)
def decide(
    review_id: int, body: ReviewDecision, session: SessionDep, staff: StaffDep
) -> ReviewPublic:
    review = reviews.decide(
        session,
        review_id=review_id,
        decision=body.decision,
        reason=body.reason,
        actor=staff.username,
        moment=now(),
    )
    return reviews.review_public(review, today=today())


@router.get("/by-conversation/{conversation_id}", response_model=CustomerPublic)
def by_conversation(
    conversation_id: str, session: SessionDep, caller: DeskReadDep
) -> CustomerPublic:
    customer = service.customer_for_conversation(session, conversation_id=conversation_id)
    if customer is None:
        raise NotFound("该会话尚未关联用户。")
    return _view(session, caller, customer)


@router.get("/{customer_id}", response_model=CustomerPublic)
def get_customer(
    customer_id: int,
    session: SessionDep,
    caller: DeskReadDep,
    conversation_id: ConversationQuery = None,
) -> CustomerPublic:
    return _view(session, caller, _customer(session, caller, customer_id, conversation_id))


@router.patch("/{customer_id}", response_model=CustomerPublic)
def update_customer(
    customer_id: int,
    body: CustomerUpdate,
    session: SessionDep,
    caller: DeskReadDep,
    privacy: PrivacyDep,
    conversation_id: ConversationQuery = None,
) -> CustomerPublic:
    _customer(session, caller, customer_id, conversation_id)
    if _is_bot(caller) and privacy.require_consent:
        consents.require_consent(session, conversation_id=conversation_id)
    customer = service.update_customer(
        session, customer_id=customer_id, data=body, actor=caller.username
    )
    return _view(session, caller, customer)


@router.post("/{customer_id}/conversations", response_model=CustomerPublic)
def link_conversation(
    customer_id: int, body: ConversationLink, session: SessionDep, staff: StaffDep
) -> CustomerPublic:
    customer = service.link_conversation(
        session, customer_id=customer_id, conversation_id=body.conversation_id, actor=staff.username
    )
    return _view(session, staff, customer)


@router.delete(
    "/{customer_id}/conversations/{conversation_id}", status_code=status.HTTP_204_NO_CONTENT
)
def unlink_conversation(
    customer_id: int, conversation_id: str, session: SessionDep, staff: StaffDep
) -> None:
    service.unlink_conversation(
        session, customer_id=customer_id, conversation_id=conversation_id, actor=staff.username
    )


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
    await run_in_threadpool(_customer, session, caller, customer_id, conversation_id)
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
    _customer(session, caller, customer_id, conversation_id)
    return [_document_view(d) for d in uploads.list_documents(session, customer_id=customer_id)]


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


@router.post(
    "/{customer_id}/verification", response_model=ReviewPublic, status_code=status.HTTP_201_CREATED
)
def submit_registration(
    customer_id: int,
    body: ReviewSubmit,
    session: SessionDep,
    caller: DeskReadDep,
    conversation_id: ConversationQuery = None,
) -> ReviewPublic:
    _customer(session, caller, customer_id, conversation_id)
    review = reviews.submit_registration(
        session,
        customer_id=customer_id,
        document_ids=body.document_ids,
        today=today(),
        actor=caller.username,
    )
    return reviews.review_public(review, today=today())


@router.post(
    "/{customer_id}/name-changes", response_model=ReviewPublic, status_code=status.HTTP_201_CREATED
)
def submit_name_change(
    customer_id: int,
    body: NameChangeCreate,
    session: SessionDep,
    caller: DeskReadDep,
    conversation_id: ConversationQuery = None,
) -> ReviewPublic:
    _customer(session, caller, customer_id, conversation_id)
    review = reviews.submit_name_change(
        session,
        customer_id=customer_id,
        new_name=body.new_name,
        changed_on=body.changed_on,
        document_ids=body.document_ids,
        today=today(),
        actor=caller.username,
    )
    return reviews.review_public(review, today=today())


@router.get("/{customer_id}/reviews", response_model=ReviewList)
def customer_reviews(
    customer_id: int,
    session: SessionDep,
    caller: DeskReadDep,
    conversation_id: ConversationQuery = None,
) -> ReviewList:
    _customer(session, caller, customer_id, conversation_id)
    items = reviews.list_reviews(session, customer_id=customer_id)
    return ReviewList(items=[reviews.review_public(r, today=today()) for r in items])


@consents_router.post("", response_model=ConsentPublic, status_code=status.HTTP_201_CREATED)
def record_consent(body: ConsentCreate, session: SessionDep, caller: DeskReadDep) -> ConsentPublic:
    consent = consents.record_consent(
        session,
        conversation_id=body.conversation_id,
        notice_version=body.notice_version,
        agreed=body.agreed,
        actor=caller.username,
    )
    return ConsentPublic.model_validate(consent)


@consents_router.get("/{conversation_id}", response_model=ConsentPublic)
def latest_consent(
    conversation_id: str, session: SessionDep, _caller: DeskReadDep
) -> ConsentPublic:
    consent = consents.get_latest_consent(session, conversation_id=conversation_id)
    return ConsentPublic.model_validate(consent)
