"""HTTP routes of complaints; thin: map requests to the service and errors to status codes."""

from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Response, status
from sqlalchemy.orm import Session

from desk.clock import today
from desk.complaints import service
from desk.complaints.models import STATUS_LABELS, Complaint
from desk.complaints.schemas import (
    ComplaintCreate,
    ComplaintCreated,
    ComplaintEventPublic,
    ComplaintList,
    ComplaintPublic,
    ComplaintTransition,
    FollowUpPublic,
    FollowUpQuery,
    StatusCode,
)
from desk.customers.consents import require_consent
from desk.customers.service import linked_conversations
from desk.customers.settings import PrivacySettings, get_privacy_settings
from desk.deps import DeskReadDep, SessionDep, StaffDep
from desk.errors import InvalidInput
from desk.timeline import public_steps
from desk.users.service import Principal

router = APIRouter(prefix="/api/complaints", tags=["complaints"])
ConversationQuery = Annotated[str | None, Query(max_length=80)]
PrivacyDep = Annotated[PrivacySettings, Depends(get_privacy_settings)]


def _is_bot(principal: Principal) -> bool:
    return principal.role == "service"


def _own(
    session: Session, principal: Principal, complaint: Complaint, conversation_id: str | None
) -> None:
    """The bot sees a complaint only on behalf of the customer's conversations that made it."""
    if _is_bot(principal) and not (
        conversation_id
        and complaint.conversation_id
        in (linked_conversations(session, conversation_id=conversation_id))
    ):
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, detail={"code": "not_found", "message": "未找到该投诉。"}
        )


@router.post("", response_model=ComplaintCreated, status_code=status.HTTP_201_CREATED)
def create_complaint(
    body: ComplaintCreate,
    session: SessionDep,
    caller: DeskReadDep,
    response: Response,
    privacy: PrivacyDep,
    idempotency_key: Annotated[str | None, Header(max_length=120)] = None,
) -> ComplaintCreated:
    if _is_bot(caller) and not body.conversation_id:
        raise InvalidInput("智能助手提交投诉时须提供会话编号。", code="conversation_required")
    if privacy.require_consent and _is_bot(caller) and (body.contact_mobile or body.contact_name):
        require_consent(session, conversation_id=body.conversation_id)  # anonymous needs none
    complaint, created, code = service.create_complaint(
        session,
        data=body,
        idempotency_key=idempotency_key,
        today=today(),
        actor=caller.username,
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    view = service.public(complaint, today=today(), masked=_is_bot(caller))
    return ComplaintCreated(**view.model_dump(), follow_up_code=code)


@router.post("/follow-up", response_model=FollowUpPublic)
def follow_up(body: FollowUpQuery, session: SessionDep) -> FollowUpPublic:
    """No login: an anonymous complainant follows up with the number and the follow-up code."""
    return service.follow_up(session, number=body.number, code=body.follow_up_code, today=today())


@router.get("", response_model=ComplaintList)
def list_complaints(
    session: SessionDep,
    caller: DeskReadDep,
    conversation_id: ConversationQuery = None,
    status_: Annotated[StatusCode | None, Query(alias="status")] = None,
    overdue: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ComplaintList:
    if _is_bot(caller) and not conversation_id:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail={"code": "forbidden", "message": "智能助手只能查询本会话的投诉。"},
        )
    items = service.list_complaints(
        session,
        conversation_id=conversation_id,
        status=status_,
        overdue_on=today() if overdue else None,
        limit=limit,
    )
    masked = _is_bot(caller)
    return ComplaintList(items=[service.public(c, today=today(), masked=masked) for c in items])


@router.get("/{number}", response_model=ComplaintPublic)
def get_complaint(
    number: str, session: SessionDep, caller: DeskReadDep, conversation_id: ConversationQuery = None
) -> ComplaintPublic:
    complaint = service.get_complaint(session, number=number)
    _own(session, caller, complaint, conversation_id)
    return service.public(complaint, today=today(), masked=_is_bot(caller))


@router.post("/{number}/transitions", response_model=ComplaintPublic)
def transition(
    number: str, body: ComplaintTransition, session: SessionDep, staff: StaffDep
) -> ComplaintPublic:
    complaint = service.transition(session, number=number, change=body, actor=staff.username)
    return service.public(complaint, today=today())


@router.get("/{number}/events", response_model=list[ComplaintEventPublic])
def events(
    number: str, session: SessionDep, caller: DeskReadDep, conversation_id: ConversationQuery = None
) -> list[ComplaintEventPublic]:
    _own(session, caller, service.get_complaint(session, number=number), conversation_id)
    return public_steps(service.events(session, number=number), STATUS_LABELS)
