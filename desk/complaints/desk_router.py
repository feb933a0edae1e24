"""The desk's complaint pages: the board, one complaint's detail, assignment. Staff enter
complaints received by phone, at a station or by letter through ``POST /api/complaints``."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from desk import boards
from desk.calendar.service import load_calendar
from desk.clock import today
from desk.complaints import board, service
from desk.complaints.models import Complaint
from desk.complaints.schemas import ComplaintBoard, ComplaintBoardRow, ComplaintDetail
from desk.consultations.ports import ConversationPort, get_conversation_port
from desk.demands.schemas import Assignment
from desk.deps import SessionDep, StaffDep, require_roles
from desk.masking import sees_personal_data
from desk.provided import from_app
from desk.users.service import Principal, display_names

router = APIRouter(prefix="/api/desk/complaints", tags=["desk"])
BoardDep = Annotated[Principal, Depends(require_roles("staff", "admin", "expert"))]
PortDep = Annotated[ConversationPort, Depends(from_app(get_conversation_port))]
Text = Annotated[str | None, Query(max_length=60)]


def _row(session: SessionDep, complaint: Complaint, *, masked: bool) -> ComplaintBoardRow:
    return board.row(
        complaint,
        today=today(),
        masked=masked,
        lateness=boards.Lateness(load_calendar(session), today(), [complaint.investigation_due]),
        names=display_names(session),
    )


@router.get("", response_model=ComplaintBoard)
def complaint_board(
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
    satisfaction: Annotated[str | None, Query(max_length=12)] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> ComplaintBoard:
    filters = board.ComplaintFilters(
        status=status_,
        domain=domain,
        region=region,
        institution=institution,
        channel=channel,
        overdue=overdue,
        assignee=assignee,
        q=q,
        satisfaction=satisfaction,
    )
    return board.board(
        session,
        filters=filters,
        page=page,
        size=size,
        today=today(),
        masked=not sees_personal_data(caller.role),
    )


@router.get("/{number}", response_model=ComplaintDetail)
def complaint_detail(
    number: str, session: SessionDep, caller: BoardDep, port: PortDep
) -> ComplaintDetail:
    return board.detail(
        session,
        number=number,
        today=today(),
        masked=not sees_personal_data(caller.role),
        port=port,
    )


@router.put("/{number}/assignee", response_model=ComplaintBoardRow)
def assign(
    number: str, body: Assignment, session: SessionDep, staff: StaffDep
) -> ComplaintBoardRow:
    complaint = service.get_complaint(session, number=number)
    boards.assign(
        session,
        service.COMPLAINTS,
        complaint,
        assignee=body.assignee,
        actor=staff.username,
        note=body.note,
    )
    session.commit()
    return _row(session, complaint, masked=False)
