"""The complaint board (投诉看板) and one complaint's detail page; keyword-only, free of HTTP."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import get_args

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from desk import boards
from desk.calendar.service import load_calendar
from desk.complaints import service
from desk.complaints.models import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    SATISFACTION_LABELS,
    STATUS_LABELS,
    UNANSWERED,
    Complaint,
    is_overdue,
)
from desk.complaints.schemas import ComplaintBoard, ComplaintBoardRow, ComplaintDetail, MoveTo
from desk.consultations.ports import ConversationPort
from desk.demands.board import masked_lines
from desk.errors import InvalidInput
from desk.timeline import public_steps
from desk.users.service import display_names
from knowledge.constants import DOMAIN_LABELS
from knowledge.personal_data import mask_text
from knowledge.schema import Institution

NO_CONVERSATION = (
    "该投诉由工作人员根据{channel}受理，没有在线会话；处理结果请通过{channel}告知投诉人。"
)


@dataclass(frozen=True)
class ComplaintFilters:
    status: str | None = None
    domain: str | None = None  # of the institution complained about
    region: str | None = None  # of the institution complained about
    institution: str | None = None
    channel: str | None = None
    overdue: bool = False
    assignee: str | None = None
    q: str | None = None
    satisfaction: str | None = None  # satisfied | unsatisfied | unanswered (closed, no answer)


def conditions(
    filters: ComplaintFilters,
    *,
    today: date,
    phone_allowed: bool,
    institutions: Sequence[Institution] | None = None,
) -> list[ColumnElement[bool]]:
    """Every filter but the status, as SQL; domain and region go by the linked institution."""
    where: list[ColumnElement[bool]] = []
    if filters.domain or filters.region:
        if filters.domain and filters.domain not in DOMAIN_LABELS:
            raise InvalidInput("未知的服务领域。", code="domain_unknown")
        known = service.published_institutions() if institutions is None else institutions
        region = (filters.region or "").strip()
        ids = [
            i.id
            for i in known
            if (not filters.domain or filters.domain in i.domains)
            and (not region or region in i.region)
        ]
        where.append(boards.in_ids(Complaint.institution_id, ids))
    if filters.institution:
        where.append(Complaint.institution_id == filters.institution)
    if filters.channel:
        where.append(Complaint.channel == filters.channel)
    if filters.overdue:
        where.append(Complaint.status.in_(OPEN_STATUSES))
        where.append(Complaint.investigation_due < today)
    if filters.satisfaction == UNANSWERED:
        where.append(Complaint.status.in_(CLOSED_STATUSES))
        where.append(Complaint.satisfaction.is_(None))
    elif filters.satisfaction in SATISFACTION_LABELS:
        where.append(Complaint.satisfaction == filters.satisfaction)
    elif filters.satisfaction:
        raise InvalidInput("未知的满意度选项。", code="satisfaction_unknown")
    if filters.assignee == boards.UNASSIGNED:
        where.append(Complaint.assignee.is_(None))
    elif filters.assignee:
        where.append(Complaint.assignee == filters.assignee)
    search = boards.search_clause(
        filters.q,
        number=Complaint.number,
        texts=(Complaint.institution_name, Complaint.contact_name),
        mobile=Complaint.contact_mobile,
        phone_allowed=phone_allowed,
    )
    if search is not None:
        where.append(search)
    return where


def row(
    complaint: Complaint,
    *,
    today: date,
    masked: bool,
    lateness: boards.Lateness,
    names: dict[str, str],
) -> ComplaintBoardRow:
    view = ComplaintBoardRow(**service.public(complaint, today=today, masked=masked).model_dump())
    view.assignee = complaint.assignee
    if complaint.assignee:
        view.assignee_name = names.get(complaint.assignee, complaint.assignee)
    if is_overdue(complaint, today=today):
        view.overdue_days = lateness(complaint.investigation_due)
    return view


def board(
    session: Session,
    *,
    filters: ComplaintFilters,
    page: int,
    size: int,
    today: date,
    masked: bool,
    institutions: Sequence[Institution] | None = None,
) -> ComplaintBoard:
    if filters.status and filters.status not in STATUS_LABELS:
        raise InvalidInput("未知的投诉状态。", code="status_unknown")
    items, total, counts = boards.page_and_counts(
        session,
        Complaint,
        conditions=conditions(
            filters, today=today, phone_allowed=not masked, institutions=institutions
        ),
        status_column=Complaint.status,
        status=filters.status,
        labels=STATUS_LABELS,
        order_by=(Complaint.id.desc(),),
        page=page,
        size=size,
    )
    lateness = boards.Lateness(load_calendar(session), today, (c.investigation_due for c in items))
    names = display_names(session)
    rows = [row(c, today=today, masked=masked, lateness=lateness, names=names) for c in items]
    return ComplaintBoard(items=rows, total=total, page=page, size=size, counts=counts)


def detail(
    session: Session,
    *,
    number: str,
    today: date,
    masked: bool,
    port: ConversationPort,
) -> ComplaintDetail:
    complaint = service.get_complaint(session, number=number)
    names = display_names(session)
    lateness = boards.Lateness(load_calendar(session), today, [complaint.investigation_due])
    view = row(complaint, today=today, masked=masked, lateness=lateness, names=names)
    if masked:
        view.content = mask_text(view.content)
        view.demand = mask_text(view.demand)
    institution = None
    if complaint.institution_id:
        entry = next(
            (i for i in service.published_institutions() if i.id == complaint.institution_id),
            None,
        )
        institution = boards.InstitutionPick(
            id=complaint.institution_id,
            title=complaint.institution_title or complaint.institution_name,
            region=entry.region if entry else None,
            chosen=True,
        )
    note, lines = None, []
    if complaint.conversation_id:
        lines = masked_lines(
            port.transcript(session, conversation_id=complaint.conversation_id), masked=masked
        )
    else:
        note = NO_CONVERSATION.format(channel=view.channel_label)
    return ComplaintDetail(
        complaint=view,
        timeline=public_steps(service.events(session, number=number), STATUS_LABELS),
        institution=institution,
        transcript=lines,
        conversation_note=note,
        next_moves=boards.next_moves(
            service.COMPLAINTS, complaint.status, allowed=get_args(MoveTo)
        ),
        people=names,
    )


def notice_extra(complaint: Complaint) -> str:
    """What the complainant needs with the new status: the outcome once handled (§7.4.3)."""
    if complaint.status in {"resolved", "informed"} and complaint.resolution:
        return f"处理意见：{complaint.resolution}"
    if complaint.status == "forwarded":
        return "已转交被投诉机构处理，我们会跟进处理结果"
    return ""
