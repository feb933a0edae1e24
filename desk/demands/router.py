"""HTTP routes of demands; thin: map requests to the service and errors to status codes."""

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response, status

from desk import boards, case_notices, cases
from desk.case_lookup import links
from desk.case_notices import CaseNoticePort, get_case_notice_port
from desk.clock import today
from desk.customers.consents import require_consent
from desk.customers.settings import PrivacySettings, get_privacy_settings
from desk.demands import board, service
from desk.demands.models import CHANNEL_LABELS, STATUS_LABELS
from desk.demands.schemas import (
    DemandCreate,
    DemandEventPublic,
    DemandList,
    DemandPublic,
    DemandTransition,
    EvaluationCreate,
    EvaluationPublic,
)
from desk.deps import DeskReadDep, ServiceDep, SessionDep, StaffDep, require_roles
from desk.masking import sees_personal_data
from desk.provided import from_app
from desk.timeline import public_steps
from desk.users.service import Principal

router = APIRouter(prefix="/api/demands", tags=["demands"])
ConversationQuery = Annotated[str | None, Query(max_length=80)]
# experts read the demands of a conversation they take over, with the mobile masked
ReadDep = Annotated[Principal, Depends(require_roles("service", "staff", "admin", "expert"))]
PrivacyDep = Annotated[PrivacySettings, Depends(from_app(get_privacy_settings))]
NoticesDep = Annotated[CaseNoticePort, Depends(from_app(get_case_notice_port))]


def _masked(principal: Principal) -> bool:
    """The bot acts for the conversation that gave the details; other roles need staff rights."""
    return not cases.is_bot(principal) and not sees_personal_data(principal.role)


@router.post("", response_model=DemandPublic, status_code=status.HTTP_201_CREATED)
def create_demand(
    body: DemandCreate,
    session: SessionDep,
    caller: ServiceDep,
    response: Response,
    privacy: PrivacyDep,
    idempotency_key: Annotated[str | None, Header(max_length=120)] = None,
) -> DemandPublic:
    if privacy.require_consent:  # PIPL: contact details only after the privacy notice is agreed
        require_consent(session, conversation_id=body.conversation_id)
    demand, created = service.create_demand(
        session,
        data=body,
        idempotency_key=idempotency_key,
        today=today(),
        actor=caller.username,
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return service.public(demand, today=today())


@router.get("", response_model=DemandList)
def list_demands(
    session: SessionDep,
    caller: ReadDep,
    conversation_id: ConversationQuery = None,
    status_: Annotated[str | None, Query(alias="status", max_length=20)] = None,
    overdue: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> DemandList:
    cases.ensure_listing_scoped(service.DEMANDS, caller=caller, conversation_id=conversation_id)
    if overdue:
        items = service.overdue(session, today=today(), conversation_id=conversation_id)
    else:
        items = service.list_demands(
            session, conversation_id=conversation_id, status=status_, limit=limit
        )
    return DemandList(
        items=[service.public(d, today=today(), masked=_masked(caller)) for d in items]
    )


@router.get("/{number}", response_model=DemandPublic)
def get_demand(
    number: str, session: SessionDep, caller: ReadDep, conversation_id: ConversationQuery = None
) -> DemandPublic:
    demand = service.get_demand(session, number=number)
    links.ensure_visible(
        session, service.DEMANDS, demand, caller=caller, conversation_id=conversation_id
    )
    return service.public(demand, today=today(), masked=_masked(caller))


@router.post("/{number}/transitions", response_model=DemandPublic)
def transition(
    number: str, body: DemandTransition, session: SessionDep, staff: StaffDep, notices: NoticesDep
) -> DemandPublic:
    demand = service.transition(session, number=number, change=body, actor=staff.username)
    case_notices.tell_enterprise(  # the enterprise learns it in its own channel (timeline says)
        session,
        service.DEMANDS,
        demand,
        port=notices,
        actor=staff.username,
        extra=board.notice_extra(demand),
        channel_label=CHANNEL_LABELS.get(demand.channel, demand.channel),
    )
    return service.public(demand, today=today())


@router.get("/{number}/events", response_model=list[DemandEventPublic])
def events(
    number: str, session: SessionDep, caller: ReadDep, conversation_id: ConversationQuery = None
) -> list[DemandEventPublic]:
    demand = service.get_demand(session, number=number)
    links.ensure_visible(
        session, service.DEMANDS, demand, caller=caller, conversation_id=conversation_id
    )
    steps = service.events(session, number=number)
    if cases.is_bot(caller):  # the enterprise reads only the moves, never the desk's notes
        steps = boards.status_moves(steps)
    return public_steps(steps, STATUS_LABELS)


@router.post(
    "/{number}/evaluation", response_model=EvaluationPublic, status_code=status.HTTP_201_CREATED
)
def evaluate(
    number: str,
    body: EvaluationCreate,
    session: SessionDep,
    caller: DeskReadDep,
    conversation_id: ConversationQuery = None,
) -> EvaluationPublic:
    demand = service.get_demand(session, number=number)
    links.ensure_visible(
        session, service.DEMANDS, demand, caller=caller, conversation_id=conversation_id
    )
    evaluation = service.evaluate(session, number=number, data=body, actor=caller.username)
    return EvaluationPublic.model_validate(evaluation)
