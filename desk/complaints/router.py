"""HTTP routes of complaints; thin: map requests to the service and errors to status codes."""

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response, status

from desk import boards, case_notices, cases
from desk.case_lookup import links
from desk.case_notices import CaseNoticePort, get_case_notice_port
from desk.clock import today
from desk.complaints import board, service
from desk.complaints import follow_up as follow_up_codes
from desk.complaints.models import CHANNEL_LABELS, STATUS_LABELS
from desk.complaints.schemas import (
    ComplaintCreate,
    ComplaintCreated,
    ComplaintEventPublic,
    ComplaintList,
    ComplaintPublic,
    ComplaintReopen,
    ComplaintSatisfied,
    ComplaintTransition,
    FollowUpPublic,
    FollowUpQuery,
    StatusCode,
)
from desk.customers.consents import require_consent
from desk.customers.settings import PrivacySettings, get_privacy_settings
from desk.deps import DeskReadDep, SessionDep, StaffDep
from desk.errors import InvalidInput
from desk.provided import from_app
from desk.timeline import public_steps

router = APIRouter(prefix="/api/complaints", tags=["complaints"])
ConversationQuery = Annotated[str | None, Query(max_length=80)]
PrivacyDep = Annotated[PrivacySettings, Depends(from_app(get_privacy_settings))]
NoticesDep = Annotated[CaseNoticePort, Depends(from_app(get_case_notice_port))]


@router.post("", response_model=ComplaintCreated, status_code=status.HTTP_201_CREATED)
def create_complaint(
    body: ComplaintCreate,
    session: SessionDep,
    caller: DeskReadDep,
    response: Response,
    privacy: PrivacyDep,
    idempotency_key: Annotated[str | None, Header(max_length=120)] = None,
) -> ComplaintCreated:
    if cases.is_bot(caller) and not body.conversation_id:
        raise InvalidInput("智能助手提交投诉时须提供会话编号。", code="conversation_required")
    if (
        privacy.require_consent
        and cases.is_bot(caller)
        and (body.contact_mobile or body.contact_name)
    ):
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
    view = service.public(complaint, today=today(), masked=cases.is_bot(caller))
    return ComplaintCreated(**view.model_dump(), follow_up_code=code)


@router.post("/follow-up", response_model=FollowUpPublic)
def follow_up(body: FollowUpQuery, session: SessionDep) -> FollowUpPublic:
    """No login: an anonymous complainant follows up with the number and the follow-up code."""
    return follow_up_codes.follow_up(
        session, number=body.number, code=body.follow_up_code, today=today()
    )


@router.get("", response_model=ComplaintList)
def list_complaints(
    session: SessionDep,
    caller: DeskReadDep,
    conversation_id: ConversationQuery = None,
    status_: Annotated[StatusCode | None, Query(alias="status")] = None,
    overdue: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ComplaintList:
    cases.ensure_listing_scoped(service.COMPLAINTS, caller=caller, conversation_id=conversation_id)
    items = service.list_complaints(
        session,
        conversation_id=conversation_id,
        status=status_,
        overdue_on=today() if overdue else None,
        limit=limit,
    )
    masked = cases.is_bot(caller)
    return ComplaintList(items=[service.public(c, today=today(), masked=masked) for c in items])


@router.get("/{number}", response_model=ComplaintPublic)
def get_complaint(
    number: str, session: SessionDep, caller: DeskReadDep, conversation_id: ConversationQuery = None
) -> ComplaintPublic:
    complaint = service.get_complaint(session, number=number)
    links.ensure_visible(
        session, service.COMPLAINTS, complaint, caller=caller, conversation_id=conversation_id
    )
    return service.public(complaint, today=today(), masked=cases.is_bot(caller))


@router.post("/{number}/transitions", response_model=ComplaintPublic)
def transition(
    number: str,
    body: ComplaintTransition,
    session: SessionDep,
    staff: StaffDep,
    notices: NoticesDep,
) -> ComplaintPublic:
    complaint = service.transition(session, number=number, change=body, actor=staff.username)
    case_notices.tell_enterprise(  # the complainant learns it in its own channel
        session,
        service.COMPLAINTS,
        complaint,
        port=notices,
        actor=staff.username,
        extra=board.notice_extra(complaint),
        channel_label=CHANNEL_LABELS.get(complaint.channel, complaint.channel),
    )
    return service.public(complaint, today=today())


@router.post("/{number}/reopen", response_model=ComplaintPublic)
def reopen(
    number: str,
    body: ComplaintReopen,
    session: SessionDep,
    caller: DeskReadDep,
    notices: NoticesDep,
) -> ComplaintPublic:
    """The complainant asks again: in its own conversation (the bot) or to staff (phone, letter)."""
    complaint = service.get_complaint(session, number=number)
    links.ensure_visible(
        session, service.COMPLAINTS, complaint, caller=caller, conversation_id=body.conversation_id
    )
    complaint = service.reopen(
        session, number=number, reason=body.reason, actor=caller.username, today=today()
    )
    if not cases.is_bot(caller):  # the bot answers in the conversation itself
        case_notices.tell_enterprise(
            session,
            service.COMPLAINTS,
            complaint,
            port=notices,
            actor=caller.username,
            extra=board.notice_extra(complaint),
            channel_label=CHANNEL_LABELS.get(complaint.channel, complaint.channel),
        )
    return service.public(complaint, today=today(), masked=cases.is_bot(caller))


@router.post("/{number}/satisfaction", response_model=ComplaintPublic)
def satisfied(
    number: str, body: ComplaintSatisfied, session: SessionDep, caller: DeskReadDep
) -> ComplaintPublic:
    """The complainant says, in its own conversation, that the outcome satisfies it."""
    complaint = service.get_complaint(session, number=number)
    links.ensure_visible(
        session, service.COMPLAINTS, complaint, caller=caller, conversation_id=body.conversation_id
    )
    complaint = service.record_satisfied(session, number=number, actor=caller.username)
    return service.public(complaint, today=today(), masked=cases.is_bot(caller))


@router.get("/{number}/events", response_model=list[ComplaintEventPublic])
def events(
    number: str, session: SessionDep, caller: DeskReadDep, conversation_id: ConversationQuery = None
) -> list[ComplaintEventPublic]:
    complaint = service.get_complaint(session, number=number)
    links.ensure_visible(
        session, service.COMPLAINTS, complaint, caller=caller, conversation_id=conversation_id
    )
    steps = service.events(session, number=number)
    if cases.is_bot(caller):  # the enterprise reads only the moves, never the desk's notes
        steps = boards.status_moves(steps)
    return public_steps(steps, STATUS_LABELS)
