"""Escalation use cases; keyword-only, free of HTTP.

The gateway asks :func:`active_escalation` before each user message: while it returns an
escalation, the message goes to the expert (or waits for one), not to Rasa.
"""

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from desk import cases
from desk.errors import NotFound
from desk.escalations.models import (
    ACTIVE_STATUSES,
    REASON_LABELS,
    STATUS_LABELS,
    TRANSITIONS,
    Escalation,
    EscalationEvent,
)
from desk.escalations.schemas import EscalationCreate, EscalationPublic

log = logging.getLogger(__name__)


def subject(escalation: Escalation) -> str:
    return f"escalation:{escalation.id}"


ESCALATIONS = cases.CaseKind[Escalation](
    name="escalation",
    noun="转人工记录",
    refusal_noun="该会话",
    transitions=TRANSITIONS,
    labels=STATUS_LABELS,
    step=EscalationEvent,
    step_owner=EscalationEvent.escalation_id,
    subject=subject,
)


def public(escalation: Escalation) -> EscalationPublic:
    view = EscalationPublic.model_validate(escalation)
    view.reason_label = REASON_LABELS[escalation.reason]
    view.status_label = STATUS_LABELS[escalation.status]
    return view


def active_escalation(session: Session, *, conversation_id: str) -> Escalation | None:
    """The waiting or claimed escalation of the conversation, or None (the bot may answer)."""
    return session.scalar(
        select(Escalation).where(
            Escalation.conversation_id == conversation_id,
            Escalation.status.in_(ACTIVE_STATUSES),
        )
    )


def create_escalation(
    session: Session, *, data: EscalationCreate, actor: str, moment: datetime
) -> tuple[Escalation, bool]:
    """Hand the conversation to people; returns (escalation, created).

    A conversation has at most one active escalation: asking again while one is waiting or
    claimed returns that one.
    """
    if existing := active_escalation(session, conversation_id=data.conversation_id):
        return existing, False
    escalation = Escalation(
        conversation_id=data.conversation_id,
        active_key=data.conversation_id,
        channel=data.channel,
        reason=data.reason,
        summary=data.summary,
        status="waiting",
        created_at=moment,
    )
    escalation, created = cases.open_case(
        session,
        ESCALATIONS,
        escalation,
        actor=actor,
        note=REASON_LABELS[data.reason],
        details={
            "conversation_id": data.conversation_id,
            "reason": data.reason,
            "channel": data.channel,
        },
        # a concurrent request for the same conversation won (the unique active_key)
        winner=lambda: active_escalation(session, conversation_id=data.conversation_id),
        at=moment,
    )
    if not created:
        return escalation, False
    log.info(
        "escalation opened id=%s conversation=%s reason=%s channel=%s",
        escalation.id,
        escalation.conversation_id,
        escalation.reason,
        escalation.channel,
    )
    return escalation, True


def list_escalations(
    session: Session,
    *,
    status: str | None = None,
    conversation_id: str | None = None,
    limit: int = 100,
) -> list[Escalation]:
    """Oldest first: the queue order in which experts should take them."""
    query = select(Escalation).order_by(Escalation.id).limit(limit)
    if status:
        query = query.where(Escalation.status == status)
    if conversation_id:
        query = query.where(Escalation.conversation_id == conversation_id)
    return list(session.scalars(query))


def get_escalation(session: Session, *, escalation_id: int) -> Escalation:
    escalation = session.get(Escalation, escalation_id)
    if escalation is None:
        raise NotFound(f"未找到编号为 {escalation_id} 的转人工记录。")
    return escalation


def claim(session: Session, *, escalation_id: int, actor: str, moment: datetime) -> Escalation:
    """An expert takes the conversation over; only a waiting one can be claimed."""
    escalation = get_escalation(session, escalation_id=escalation_id)
    cases.transition(
        session,
        ESCALATIONS,
        escalation,
        to="claimed",
        actor=actor,
        note="专家已接入",
        action="claim",
        at=moment,
    )
    escalation.expert, escalation.claimed_at = actor, moment
    session.commit()
    log.info(
        "escalation claimed id=%s conversation=%s expert=%s",
        escalation.id,
        escalation.conversation_id,
        actor,
    )
    return escalation


def release(
    session: Session,
    *,
    escalation_id: int,
    actor: str,
    note: str,
    moment: datetime,
    supervisor: bool = False,
) -> Escalation:
    """Hand the conversation back to the bot (closed).

    The expert who claimed it may release it; a supervisor (staff, admin) may release any, also
    one still waiting.
    """
    escalation = get_escalation(session, escalation_id=escalation_id)
    cases.ensure_holder(
        holder=escalation.expert,
        actor=actor,
        supervisor=supervisor,
        refusal="只有接入该会话的专家或工作人员可以交还会话。",
    )
    cases.transition(
        session,
        ESCALATIONS,
        escalation,
        to="closed",
        actor=actor,
        note=note or "已交还智能助手",
        action="release",
        at=moment,
    )
    escalation.closed_at, escalation.active_key = moment, None
    session.commit()
    log.info(
        "escalation closed id=%s conversation=%s by=%s",
        escalation.id,
        escalation.conversation_id,
        actor,
    )
    return escalation


def events(session: Session, *, escalation_id: int) -> list[EscalationEvent]:
    return cases.timeline(
        session, ESCALATIONS, get_escalation(session, escalation_id=escalation_id)
    )
