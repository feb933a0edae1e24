"""Escalation use cases; keyword-only, free of HTTP.

The gateway asks :func:`active_escalation` before each user message: while it returns an
escalation, the message goes to the expert (or waits for one), not to Rasa.
"""

import logging
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from desk import cases
from desk.clock import as_utc, now
from desk.errors import NotFound
from desk.escalations.models import (
    ACTIVE_STATUSES,
    NOTICE_LABELS,
    OUTCOME_LABELS,
    REASON_LABELS,
    STATUS_LABELS,
    TRANSITIONS,
    Escalation,
    EscalationEvent,
)
from desk.escalations.schemas import EscalationCreate, EscalationPublic
from desk.live import events as live
from desk.users.experts import online_experts
from desk.users.service import display_names
from knowledge.constants import DOMAIN_LABELS

log = logging.getLogger(__name__)


class AlreadyClaimed(cases.IllegalTransition):
    """Another expert (or the caller, a moment ago) took the conversation first."""

    code = "already_claimed"


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


def public(
    escalation: Escalation, *, names: dict[str, str] | None = None, moment: datetime | None = None
) -> EscalationPublic:
    view = EscalationPublic.model_validate(escalation)
    view.created_at = as_utc(escalation.created_at) or escalation.created_at
    view.claimed_at = as_utc(escalation.claimed_at)
    view.closed_at = as_utc(escalation.closed_at)
    view.reason_label = REASON_LABELS[escalation.reason]
    view.status_label = STATUS_LABELS[escalation.status]
    view.domain_label = DOMAIN_LABELS.get(escalation.domain or "")
    view.outcome_label = OUTCOME_LABELS.get(escalation.outcome or "")
    view.notice_label = NOTICE_LABELS.get(escalation.notice or "")
    view.offered_to = list(escalation.offered_to or [])
    if escalation.expert:
        view.expert_name = (names or {}).get(escalation.expert, escalation.expert)
    waited_until = view.claimed_at or view.closed_at or moment or now()
    view.waiting_minutes = max(0, int((waited_until - view.created_at).total_seconds() // 60))
    return view


def utc(moment: datetime) -> datetime:
    """Times are stored in UTC: SQLite keeps a datetime's fields and drops its zone."""
    return moment.astimezone(UTC)


def publish(session: Session, escalation: Escalation) -> None:
    """Every open console sees the change (after the caller's commit)."""
    session.flush()
    live.publish(
        session,
        kind="escalation",
        escalation_id=escalation.id,
        conversation_id=escalation.conversation_id,
        data=public(escalation, names=display_names(session)).model_dump(mode="json"),
    )


def first_offer(session: Session, *, domain: str | None) -> list[str]:
    """Online experts of the domain; [] (everyone) when none of them is online."""
    if domain is None or domain == "other":
        return []
    return [u.username for u in online_experts(session, domain=domain)]


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
        created_at=utc(moment),
        domain=data.domain,
        need=data.need,
        enterprise=data.enterprise,
        offered_to=first_offer(session, domain=data.domain),
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
    publish(session, escalation)
    session.commit()
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
    expert: str | None = None,
    limit: int = 100,
) -> list[Escalation]:
    """Oldest first: the queue order in which experts should take them."""
    query = select(Escalation).order_by(Escalation.id).limit(limit)
    if expert:
        query = query.where(Escalation.expert == expert)
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
    """An expert takes the conversation over; only a waiting one can be claimed.

    Two experts claiming at once: a conditional UPDATE (waiting → claimed) lets exactly one win,
    in any process, on SQLite and PostgreSQL; the other is told who has it.
    """
    session.rollback()  # no read transaction open: SQLite's write must see the newest state
    won = session.execute(
        update(Escalation)
        .where(Escalation.id == escalation_id, Escalation.status == "waiting")
        .values(status="claimed", expert=actor, claimed_at=utc(moment))
        .execution_options(synchronize_session=False)
    )
    if won.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        escalation = get_escalation(session, escalation_id=escalation_id)
        if escalation.status == "claimed":
            holder = display_names(session).get(escalation.expert or "", escalation.expert)
            raise AlreadyClaimed(f"该会话已由{holder}接入。")
        cases.ensure_allowed(ESCALATIONS, escalation, to="claimed")
        raise AssertionError("unreachable: a waiting escalation is always claimable")
    escalation = get_escalation(session, escalation_id=escalation_id)
    escalation.status = "waiting"  # the row says claimed; the timeline records the move
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
    escalation.expert, escalation.claimed_at = actor, utc(moment)
    publish(session, escalation)
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
    outcome: str | None = None,
    commit: bool = True,
) -> Escalation:
    """Hand the conversation back to the bot (closed), with the consultation's outcome.

    The expert who claimed it may release it; a supervisor (staff, admin) may release any, also
    one still waiting. The system (timeouts, the user's cancel) acts as a supervisor; it closes
    inside its own transaction (``commit=False``), with what it tells the enterprise.
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
        note=note or (OUTCOME_LABELS.get(outcome or "") or "已交还智能助手"),
        action="release",
        details={"from": escalation.status, "to": "closed", "outcome": outcome},
        at=moment,
    )
    escalation.closed_at, escalation.active_key = utc(moment), None
    escalation.outcome = outcome
    publish(session, escalation)
    if commit:
        session.commit()
    log.info(
        "escalation closed id=%s conversation=%s by=%s outcome=%s",
        escalation.id,
        escalation.conversation_id,
        actor,
        outcome,
    )
    return escalation


def events(session: Session, *, escalation_id: int) -> list[EscalationEvent]:
    return cases.timeline(
        session, ESCALATIONS, get_escalation(session, escalation_id=escalation_id)
    )
