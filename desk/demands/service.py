"""Demand use cases; keyword-only, free of HTTP."""

import logging
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from desk import cases
from desk.calendar.service import load_calendar
from desk.case_lookup.links import linked_numbers
from desk.clock import now
from desk.customers.service import linked_conversations
from desk.demands.models import (
    STATUS_LABELS,
    TRANSITIONS,
    Demand,
    DemandEvent,
    Evaluation,
    overdue_clause,
)
from desk.demands.schemas import (
    DemandCreate,
    DemandPublic,
    DemandTransition,
    EvaluationCreate,
    StaffDemandCreate,
)
from desk.errors import InvalidInput, NotFound
from desk.improvements import service as improvements
from desk.numbering import next_number
from desk.sla import RECOMMEND_WORKING_DAYS, RESPOND_WORKING_DAYS
from knowledge.personal_data import mask_credit_code, mask_mobile

log = logging.getLogger(__name__)


DEMANDS = cases.CaseKind[Demand](
    name="demand",
    noun="需求",
    transitions=TRANSITIONS,
    labels=STATUS_LABELS,
    step=DemandEvent,
    step_owner=DemandEvent.demand_id,
    subject=lambda demand: demand.number,
    scoped_roles=frozenset({"service", "expert"}),  # experts: the conversation they take over
)


def public(demand: Demand, *, today: date, masked: bool = False) -> DemandPublic:
    view = DemandPublic.model_validate(demand)
    if masked:
        view.contact_mobile = mask_mobile(demand.contact_mobile)
        view.credit_code = mask_credit_code(demand.credit_code) if demand.credit_code else None
    view.status_label = STATUS_LABELS[demand.status]
    view.respond_overdue = demand.status == "submitted" and today > demand.respond_due
    view.recommend_overdue = (
        demand.status in {"submitted", "responded"} and today > demand.recommend_due
    )
    return view


def find_by_key(session: Session, *, idempotency_key: str | None) -> Demand | None:
    if not idempotency_key:
        return None
    return session.scalar(select(Demand).where(Demand.idempotency_key == idempotency_key))


def create_demand(
    session: Session,
    *,
    data: DemandCreate | StaffDemandCreate,
    idempotency_key: str | None,
    today: date,
    actor: str = "bot",
) -> tuple[Demand, bool]:
    """Open a demand; returns (demand, created). A repeated key returns the first demand."""
    if existing := find_by_key(session, idempotency_key=idempotency_key):
        return existing, False
    calendar = load_calendar(session)
    demand = Demand(
        **data.model_dump(),
        number=next_number(session, f"XQ{today:%Y%m%d}-"),
        status="submitted",
        idempotency_key=idempotency_key,
        respond_due=calendar.add_working_days(today, RESPOND_WORKING_DAYS),
        recommend_due=calendar.add_working_days(today, RECOMMEND_WORKING_DAYS),
    )
    demand, created = cases.open_case(
        session,
        DEMANDS,
        demand,
        actor=actor,
        note="需求已提交",
        details={
            "conversation_id": demand.conversation_id,
            "contact_mobile": mask_mobile(demand.contact_mobile),
        },
        winner=lambda: find_by_key(session, idempotency_key=idempotency_key),  # a racer won
    )
    if not created:
        return demand, False
    log.info(
        "demand opened number=%s conversation=%s mobile=%s",
        demand.number,
        demand.conversation_id,
        mask_mobile(demand.contact_mobile),
    )
    return demand, True


def list_demands(
    session: Session,
    *,
    conversation_id: str | None = None,
    status: str | None = None,
    limit: int = 100,
) -> list[Demand]:
    query = select(Demand).order_by(Demand.id.desc()).limit(limit)
    if conversation_id:
        query = query.where(
            Demand.conversation_id.in_(
                linked_conversations(session, conversation_id=conversation_id)
            )
            | Demand.number.in_(linked_numbers(session, conversation_id=conversation_id))
        )
    if status:
        query = query.where(Demand.status == status)
    return list(session.scalars(query))


def get_demand(session: Session, *, number: str) -> Demand:
    demand = session.scalar(select(Demand).where(Demand.number == number))
    if demand is None:
        raise NotFound(f"未找到编号为 {number} 的需求。")
    return demand


def transition(session: Session, *, number: str, change: DemandTransition, actor: str) -> Demand:
    demand = get_demand(session, number=number)
    cases.ensure_allowed(DEMANDS, demand, to=change.to)
    moment = now()
    if change.to == "recommended":
        if not change.institution_ids:
            raise InvalidInput("推荐时请至少选择一家服务机构。", code="institutions_required")
        demand.institution_ids = list(dict.fromkeys(change.institution_ids))
        demand.recommended_by = "staff"
        demand.recommended_at = moment
    elif change.to == "matched":
        if not change.chosen_institution_id:
            raise InvalidInput("对接时请注明企业选定的服务机构。", code="institution_required")
        demand.chosen_institution_id = change.chosen_institution_id
    elif change.to == "responded":
        demand.responded_at = moment
    elif change.to == "completed":
        demand.completed_at = moment
    cases.transition(session, DEMANDS, demand, to=change.to, actor=actor, note=change.note)
    session.commit()
    return demand


def events(session: Session, *, number: str) -> list[DemandEvent]:
    return cases.timeline(session, DEMANDS, get_demand(session, number=number))


def evaluate(session: Session, *, number: str, data: EvaluationCreate, actor: str) -> Evaluation:
    demand = get_demand(session, number=number)
    cases.transition(
        session,
        DEMANDS,
        demand,
        to="evaluated",
        actor=actor,
        note="企业已评价",
        action="evaluate",
        details={"overall": data.overall_score},
        refusal="服务完成后才能评价；该需求已评价或尚未完成。",
    )
    evaluation = Evaluation(demand_id=demand.id, **data.model_dump())
    session.add(evaluation)
    improvements.open_for_evaluation(session, demand=demand, evaluation=evaluation, actor=actor)
    session.commit()
    return evaluation


def overdue(session: Session, *, today: date, conversation_id: str | None = None) -> list[Demand]:
    query = select(Demand).where(overdue_clause(today)).order_by(Demand.respond_due)
    if conversation_id:
        query = query.where(
            Demand.conversation_id.in_(
                linked_conversations(session, conversation_id=conversation_id)
            )
        )
    return list(session.scalars(query))
