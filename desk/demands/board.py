"""The demand board (需求看板) and one demand's detail page; keyword-only, free of HTTP."""

import logging
from dataclasses import dataclass
from datetime import date
from typing import get_args

from sqlalchemy import ColumnElement, String, cast, or_
from sqlalchemy.orm import InstrumentedAttribute, Session

from desk import boards
from desk.calendar.service import load_calendar
from desk.consultations.ports import ConversationPort
from desk.consultations.schemas import TranscriptLine
from desk.demands import service
from desk.demands.models import CHANNEL_LABELS, STATUS_LABELS, Demand, overdue_clause
from desk.demands.schemas import (
    DemandBoard,
    DemandBoardRow,
    DemandDetail,
    DemandStatus,
    ServicePick,
)
from desk.errors import InvalidInput
from desk.timeline import public_steps
from desk.users.service import display_names
from knowledge.constants import DOMAIN_LABELS, SERVICE_IDS, service_domain
from knowledge.personal_data import mask_text

log = logging.getLogger(__name__)

NO_CONVERSATION = "该需求由工作人员根据{channel}录入，没有在线会话；进展请通过{channel}告知企业。"


@dataclass(frozen=True)
class DemandFilters:
    status: str | None = None
    domain: str | None = None
    region: str | None = None
    institution: str | None = None
    channel: str | None = None
    overdue: bool = False
    assignee: str | None = None  # a username, or boards.UNASSIGNED
    q: str | None = None


def _json_has(column: InstrumentedAttribute[list[str]], value: str) -> ColumnElement[bool]:
    """A JSON list column holds ``value`` (its text holds ``"value"``, on SQLite and PostgreSQL)."""
    return cast(column, String).like(f'%"{value}"%')


def conditions(
    filters: DemandFilters, *, today: date, phone_allowed: bool
) -> list[ColumnElement[bool]]:
    """Every filter but the status, as SQL."""
    where: list[ColumnElement[bool]] = []
    if filters.domain:
        if filters.domain not in DOMAIN_LABELS:
            raise InvalidInput("未知的服务领域。", code="domain_unknown")
        ids = [s for s in SERVICE_IDS if service_domain(s) == filters.domain]
        where.append(or_(*(_json_has(Demand.service_ids, s) for s in ids)))
    if filters.region:
        where.append(Demand.place.ilike(f"%{filters.region.strip()}%"))
    if filters.institution:
        where.append(
            or_(
                Demand.chosen_institution_id == filters.institution,
                _json_has(Demand.institution_ids, filters.institution),
            )
        )
    if filters.channel:
        where.append(Demand.channel == filters.channel)
    if filters.overdue:
        where.append(overdue_clause(today))
    if filters.assignee == boards.UNASSIGNED:
        where.append(Demand.assignee.is_(None))
    elif filters.assignee:
        where.append(Demand.assignee == filters.assignee)
    search = boards.search_clause(
        filters.q,
        number=Demand.number,
        texts=(Demand.company_name, Demand.contact_name, Demand.product),
        mobile=Demand.contact_mobile,
        phone_allowed=phone_allowed,
    )
    if search is not None:
        where.append(search)
    return where


def row(
    demand: Demand,
    *,
    today: date,
    masked: bool,
    lateness: boards.Lateness,
    names: dict[str, str],
) -> DemandBoardRow:
    view = DemandBoardRow(**service.public(demand, today=today, masked=masked).model_dump())
    view.channel_label = CHANNEL_LABELS.get(demand.channel, demand.channel)
    view.assignee = demand.assignee
    view.assignee_name = names.get(demand.assignee, demand.assignee) if demand.assignee else None
    missed = [
        due
        for due, late in (
            (demand.respond_due, view.respond_overdue),
            (demand.recommend_due, view.recommend_overdue),
        )
        if late
    ]
    view.overdue = bool(missed)
    if missed:
        view.overdue_days = lateness(min(missed))
    return view


def board(
    session: Session,
    *,
    filters: DemandFilters,
    page: int,
    size: int,
    today: date,
    masked: bool,
) -> DemandBoard:
    if filters.status and filters.status not in STATUS_LABELS:
        raise InvalidInput("未知的需求状态。", code="status_unknown")
    items, total, counts = boards.page_and_counts(
        session,
        Demand,
        conditions=conditions(filters, today=today, phone_allowed=not masked),
        status_column=Demand.status,
        status=filters.status,
        labels=STATUS_LABELS,
        order_by=(Demand.id.desc(),),
        page=page,
        size=size,
    )
    lateness = boards.Lateness(load_calendar(session), today, (d.respond_due for d in items))
    names = display_names(session)
    rows = [row(d, today=today, masked=masked, lateness=lateness, names=names) for d in items]
    return DemandBoard(items=rows, total=total, page=page, size=size, counts=counts)


def _knowledge() -> tuple[dict[str, object], dict[str, object]]:
    """(services by id, institutions by id) of the knowledge base; empty when unreadable."""
    from knowledge.store import KnowledgeError
    from retrieval.live import live_knowledge

    try:
        knowledge = live_knowledge()
    except KnowledgeError:
        log.warning("knowledge base unreadable; the demand's detail shows bare ids")
        return {}, {}
    return {s.id: s for s in knowledge.services}, {i.id: i for i in knowledge.institutions}


def institutions(demand: Demand) -> list[boards.InstitutionPick]:
    """The institutions recommended to the enterprise (and the one it chose), with why each
    fits its need, in the recommendation's words (retrieval/recommend.py)."""
    from retrieval.recommend import explain_institution

    _, known = _knowledge()
    ids = list(dict.fromkeys([*demand.institution_ids, demand.chosen_institution_id or ""]))
    picks = []
    for institution_id in filter(None, ids):
        entry = known.get(institution_id)
        chosen = institution_id == demand.chosen_institution_id
        if entry is None:
            picks.append(
                boards.InstitutionPick(
                    id=institution_id,
                    title=institution_id,
                    reason="知识库中已没有该机构。",
                    chosen=chosen,
                )
            )
            continue
        reason = explain_institution(
            entry,
            text=f"{demand.product} {demand.need_text}",
            place=demand.place,
            service_ids=set(demand.service_ids),
        )
        picks.append(
            boards.InstitutionPick(
                id=institution_id,
                title=str(getattr(entry, "title", institution_id)),
                region=getattr(entry, "region", None),
                reason=reason,
                chosen=chosen,
            )
        )
    return picks


def masked_lines(lines: list[TranscriptLine], *, masked: bool) -> list[TranscriptLine]:
    if not masked:
        return lines
    return [line.model_copy(update={"text": mask_text(line.text)}) for line in lines]


def detail(
    session: Session,
    *,
    number: str,
    today: date,
    masked: bool,
    port: ConversationPort,
) -> DemandDetail:
    demand = service.get_demand(session, number=number)
    known_services, _ = _knowledge()
    names = display_names(session)
    lateness = boards.Lateness(load_calendar(session), today, [demand.respond_due])
    view = row(demand, today=today, masked=masked, lateness=lateness, names=names)
    note = None
    lines: list[TranscriptLine] = []
    if demand.conversation_id:
        lines = masked_lines(
            port.transcript(session, conversation_id=demand.conversation_id), masked=masked
        )
    else:
        note = NO_CONVERSATION.format(channel=view.channel_label)
    return DemandDetail(
        demand=view,
        timeline=public_steps(service.events(session, number=number), STATUS_LABELS),
        services=[
            ServicePick(id=s, title=str(getattr(known_services.get(s), "title", s)))
            for s in demand.service_ids
        ],
        institutions=institutions(demand),
        transcript=lines,
        conversation_note=note,
        next_moves=boards.next_moves(
            service.DEMANDS, demand.status, allowed=get_args(DemandStatus)
        ),
        people=names,
    )


def notice_extra(demand: Demand) -> str:
    """What the enterprise needs with the new status: the institutions recommended or chosen."""
    _, known = _knowledge()

    def title(institution_id: str) -> str:
        return str(getattr(known.get(institution_id), "title", institution_id))

    if demand.status == "recommended" and demand.institution_ids:
        return "为您推荐的服务机构：" + "、".join(title(i) for i in demand.institution_ids)
    if demand.status == "matched" and demand.chosen_institution_id:
        return f"已为您对接服务机构：{title(demand.chosen_institution_id)}"
    return ""  # completed: the notice invites the evaluation itself (desk/case_notices.py)
