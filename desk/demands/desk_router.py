"""The desk's demand pages: the board, one demand's detail, demands staff enter, assignment."""

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response, status
from pydantic import BaseModel
from sqlalchemy import select

from desk import boards
from desk.calendar.service import load_calendar
from desk.clock import today
from desk.consultations.ports import ConversationPort, get_conversation_port
from desk.demands import board, service
from desk.demands.models import Demand
from desk.demands.schemas import (
    Assignment,
    DemandBoard,
    DemandBoardRow,
    DemandDetail,
    StaffDemandCreate,
)
from desk.deps import SessionDep, StaffDep, require_roles
from desk.masking import sees_personal_data
from desk.provided import from_app
from desk.users.models import User
from desk.users.service import Principal, display_names

router = APIRouter(prefix="/api/desk/demands", tags=["desk"])
# experts may read the board and a detail, with mobiles and credit codes masked
BoardDep = Annotated[Principal, Depends(require_roles("staff", "admin", "expert"))]
PortDep = Annotated[ConversationPort, Depends(from_app(get_conversation_port))]
Text = Annotated[str | None, Query(max_length=60)]


def _row(session: SessionDep, demand: Demand, *, masked: bool) -> DemandBoardRow:
    return board.row(
        demand,
        today=today(),
        masked=masked,
        lateness=boards.Lateness(load_calendar(session), today(), [demand.respond_due]),
        names=display_names(session),
    )


@router.get("", response_model=DemandBoard)
def demand_board(
    session: SessionDep,
    caller: BoardDep,
    status_: Annotated[str | None, Query(alias="status", max_length=20)] = None,
    domain: Annotated[str | None, Query(max_length=20)] = None,
    region: Text = None,
    institution: Text = None,
    channel: Annotated[str | None, Query(max_length=16)] = None,
    overdue: bool = False,
    assignee: Annotated[str | None, Query(max_length=40)] = None,
    q: Text = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> DemandBoard:
    filters = board.DemandFilters(
        status=status_,
        domain=domain,
        region=region,
        institution=institution,
        channel=channel,
        overdue=overdue,
        assignee=assignee,
        q=q,
    )
    return board.board(
        session,
        filters=filters,
        page=page,
        size=size,
        today=today(),
        masked=not sees_personal_data(caller.role),
    )


@router.post("", response_model=DemandBoardRow, status_code=status.HTTP_201_CREATED)
def enter_demand(
    body: StaffDemandCreate,
    session: SessionDep,
    staff: StaffDep,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=120)] = None,
) -> DemandBoardRow:
    """A demand received by phone, at a station or by letter; a repeated key (a double click)
    returns the first one with 200."""
    demand, created = service.create_demand(
        session,
        data=body,
        idempotency_key=f"desk:{idempotency_key}" if idempotency_key else None,
        today=today(),
        actor=staff.username,
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return _row(session, demand, masked=False)


@router.get("/{number}", response_model=DemandDetail)
def demand_detail(
    number: str, session: SessionDep, caller: BoardDep, port: PortDep
) -> DemandDetail:
    return board.detail(
        session,
        number=number,
        today=today(),
        masked=not sees_personal_data(caller.role),
        port=port,
    )


@router.put("/{number}/assignee", response_model=DemandBoardRow)
def assign(number: str, body: Assignment, session: SessionDep, staff: StaffDep) -> DemandBoardRow:
    demand = service.get_demand(session, number=number)
    boards.assign(
        session,
        service.DEMANDS,
        demand,
        assignee=body.assignee,
        actor=staff.username,
        note=body.note,
    )
    session.commit()
    return _row(session, demand, masked=False)


class Assignee(BaseModel):
    username: str
    display_name: str
    role: str


assignees_router = APIRouter(prefix="/api/desk", tags=["desk"])


@assignees_router.get("/assignees", response_model=list[Assignee])
def assignees(session: SessionDep, _staff: StaffDep) -> list[Assignee]:
    """The staff members a demand or complaint may be handed to (active staff and admins)."""
    users = session.scalars(
        select(User)
        .where(User.active.is_(True), User.role.in_(sorted(boards.ASSIGNABLE_ROLES)))
        .order_by(User.display_name)
    )
    return [Assignee(username=u.username, display_name=u.display_name, role=u.role) for u in users]
