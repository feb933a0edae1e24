"""HTTP routes of escalations; thin: map requests to the service and errors to status codes."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from desk import cases
from desk.calendar.service import load_calendar
from desk.clock import now
from desk.deps import ServiceDep, SessionDep, require_roles
from desk.escalations import hours, queue, routing, service
from desk.escalations.models import STATUS_LABELS, Escalation
from desk.escalations.schemas import (
    EscalationCreate,
    EscalationCreated,
    EscalationEventPublic,
    EscalationList,
    EscalationPublic,
    EscalationRelease,
    HandOver,
    StatusCode,
)
from desk.timeline import public_steps
from desk.users.service import Principal, display_names

router = APIRouter(prefix="/api/escalations", tags=["escalations"])

ExpertDep = Annotated[Principal, Depends(require_roles("expert"))]
ConsoleDep = Annotated[Principal, Depends(require_roles("expert", "staff", "admin"))]
ReaderDep = Annotated[Principal, Depends(require_roles("service", "expert", "staff", "admin"))]
StaffDep = Annotated[Principal, Depends(require_roles("staff", "admin"))]


@router.post("", response_model=EscalationCreated, status_code=status.HTTP_201_CREATED)
def create_escalation(
    body: EscalationCreate, session: SessionDep, caller: ServiceDep, response: Response
) -> EscalationCreated:
    moment = now()
    escalation, created = service.create_escalation(
        session, data=body, actor=caller.username, moment=moment
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    calendar = load_calendar(session)
    return EscalationCreated(
        **service.public(escalation).model_dump(),
        within_service_hours=hours.within_service_hours(moment, calendar),
        next_service_start=hours.next_service_start(moment, calendar),
        **queue.standing(session, escalation=escalation).model_dump(),
    )


@router.get("", response_model=EscalationList)
def list_escalations(
    session: SessionDep,
    caller: ReaderDep,
    status_: Annotated[StatusCode | None, Query(alias="status")] = None,
    conversation_id: Annotated[str | None, Query(max_length=80)] = None,
    mine: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> EscalationList:
    cases.ensure_listing_scoped(service.ESCALATIONS, caller=caller, conversation_id=conversation_id)
    items = service.list_escalations(
        session,
        status=status_,
        conversation_id=conversation_id,
        expert=caller.username if mine else None,
        limit=limit,
    )
    names, moment = display_names(session), now()
    return EscalationList(items=[service.public(e, names=names, moment=moment) for e in items])


def _public(session: SessionDep, escalation: Escalation) -> EscalationPublic:
    return service.public(escalation, names=display_names(session))


@router.get("/{escalation_id}", response_model=EscalationPublic)
def get_escalation(escalation_id: int, session: SessionDep, _: ConsoleDep) -> EscalationPublic:
    return _public(session, service.get_escalation(session, escalation_id=escalation_id))


@router.post("/{escalation_id}/claim", response_model=EscalationPublic)
def claim(escalation_id: int, session: SessionDep, expert: ExpertDep) -> EscalationPublic:
    escalation = service.claim(
        session, escalation_id=escalation_id, actor=expert.username, moment=now()
    )
    return _public(session, escalation)


def _hand_over(
    session: SessionDep, escalation_id: int, body: HandOver, caller: Principal, *, supervisor: bool
) -> EscalationPublic:
    escalation = routing.hand_over(
        session,
        escalation_id=escalation_id,
        to=body.expert,
        note=body.note,
        actor=caller.username,
        supervisor=supervisor,
        moment=now(),
    )
    return _public(session, escalation)


@router.post("/{escalation_id}/assign", response_model=EscalationPublic)
def assign(
    escalation_id: int, body: HandOver, session: SessionDep, staff: StaffDep
) -> EscalationPublic:
    """Staff and admins assign a waiting consultation, or reassign a claimed one."""
    return _hand_over(session, escalation_id, body, staff, supervisor=True)


@router.post("/{escalation_id}/transfer", response_model=EscalationPublic)
def transfer(
    escalation_id: int, body: HandOver, session: SessionDep, expert: ExpertDep
) -> EscalationPublic:
    """The holding expert hands the consultation to a colleague, with a note."""
    return _hand_over(session, escalation_id, body, expert, supervisor=False)


@router.post("/{escalation_id}/release", response_model=EscalationPublic)
def release(
    escalation_id: int,
    session: SessionDep,
    caller: ConsoleDep,
    body: EscalationRelease | None = None,
) -> EscalationPublic:
    escalation = service.release(
        session,
        escalation_id=escalation_id,
        actor=caller.username,
        note=body.note if body else "",
        moment=now(),
        supervisor=cases.is_supervisor(caller),
    )
    return _public(session, escalation)


@router.get("/{escalation_id}/events", response_model=list[EscalationEventPublic])
def events(escalation_id: int, session: SessionDep, _: ConsoleDep) -> list[EscalationEventPublic]:
    return public_steps(service.events(session, escalation_id=escalation_id), STATUS_LABELS)
