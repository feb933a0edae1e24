"""Demand use cases; keyword-only, free of HTTP."""

import logging
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from desk import sla
from desk.demands.models import Demand
from desk.demands.schemas import DemandCreate, mask_mobile
from desk.errors import NotFound
from desk.numbering import next_number

log = logging.getLogger(__name__)


def find_by_key(session: Session, *, idempotency_key: str) -> Demand | None:
    return session.scalar(select(Demand).where(Demand.idempotency_key == idempotency_key))


def create_demand(
    session: Session, *, data: DemandCreate, idempotency_key: str | None, today: date
) -> tuple[Demand, bool]:
    """Open a demand; returns (demand, created). A repeated key returns the first demand."""
    if idempotency_key and (existing := find_by_key(session, idempotency_key=idempotency_key)):
        return existing, False
    respond_due = sla.add_working_days(today, sla.RESPOND_WORKING_DAYS)
    recommend_due = sla.add_working_days(today, sla.RECOMMEND_WORKING_DAYS)
    demand = Demand(
        **data.model_dump(),
        number=next_number(session, f"XQ{today:%Y%m%d}-"),
        status="submitted",
        idempotency_key=idempotency_key,
        respond_due=respond_due,
        recommend_due=recommend_due,
    )
    session.add(demand)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        if idempotency_key and (existing := find_by_key(session, idempotency_key=idempotency_key)):
            return existing, False  # a concurrent request with the same key won
        raise
    log.info(
        "demand opened number=%s conversation=%s mobile=%s",
        demand.number, demand.conversation_id, mask_mobile(demand.contact_mobile),
    )
    return demand, True


def list_demands(
    session: Session, *, conversation_id: str | None = None, limit: int = 100
) -> list[Demand]:
    query = select(Demand).order_by(Demand.id.desc()).limit(limit)
    if conversation_id:
        query = query.where(Demand.conversation_id == conversation_id)
    return list(session.scalars(query))


def get_demand(session: Session, *, number: str) -> Demand:
    demand = session.scalar(select(Demand).where(Demand.number == number))
    if demand is None:
        raise NotFound(f"未找到编号为 {number} 的需求。")
    return demand
