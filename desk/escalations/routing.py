"""Who is offered an escalation, and handing one to a colleague (质量门诊 routing by domain).

A new escalation is offered first to the online experts of its QI domain; when none of them is
online (or, later, when nobody claimed it in time) the offer widens to every expert: an empty
``offered_to`` means everyone. Staff and admins assign or reassign; the holding expert transfers
to a colleague with a note. Every change is a step on the escalation's timeline.
"""

import logging
from datetime import datetime

from sqlalchemy import String, cast, update
from sqlalchemy.orm import Session

from desk import cases
from desk.errors import InvalidInput
from desk.escalations import service
from desk.escalations.models import Escalation
from desk.users.models import User
from desk.users.service import get_user

log = logging.getLogger(__name__)


def _colleague(session: Session, username: str) -> User:
    user = get_user(session, username=username)
    if user.role != "expert" or not user.active:
        raise InvalidInput(f"{user.display_name} 不是在岗的专家。", code="not_expert")
    return user


def _take(session: Session, escalation: Escalation, *, to: str) -> Escalation:
    """Move the row to ``to`` only if nobody changed it since it was read (a claim, a close, a
    colleague's transfer at the same moment): the same conditional UPDATE as the claim. Returns
    the row read again, its expert already ``to``, its status still the one read."""
    escalation_id, status, expert = escalation.id, escalation.status, escalation.expert
    session.rollback()  # no read transaction open: SQLite's write must see the newest state
    holder = Escalation.expert.is_(None) if expert is None else Escalation.expert == expert
    moved = session.execute(
        update(Escalation)
        .where(Escalation.id == escalation_id, Escalation.status == status, holder)
        .values(expert=to)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise cases.IllegalTransition("该会话刚刚有了变化，请刷新后再试。", code="changed")
    return service.get_escalation(session, escalation_id=escalation_id)


def hand_over(
    session: Session,
    *,
    escalation_id: int,
    to: str,
    note: str,
    actor: str,
    supervisor: bool,
    moment: datetime,
) -> Escalation:
    """Assign (a supervisor, waiting or claimed) or transfer (the holder) to expert ``to``."""
    escalation = service.get_escalation(session, escalation_id=escalation_id)
    colleague = _colleague(session, to)
    if not supervisor:
        cases.ensure_holder(
            holder=escalation.expert,
            actor=actor,
            supervisor=False,
            refusal="只有接入该会话的专家可以转给同事。",
        )
    if escalation.status == "closed":
        raise cases.IllegalTransition("该咨询已结束，不能再指派或转交。")
    if escalation.expert == colleague.username:
        raise InvalidInput(f"该会话已由{colleague.display_name}接待。", code="same_expert")
    previous = escalation.expert
    escalation = _take(session, escalation, to=colleague.username)
    action = "assign" if supervisor else "transfer"
    words = "指派给" if supervisor else "转给"
    text = f"{words}{colleague.display_name}" + (f"：{note.strip()}" if note.strip() else "")
    if escalation.status == "waiting":
        cases.transition(
            session,
            service.ESCALATIONS,
            escalation,
            to="claimed",
            actor=actor,
            note=text,
            action=action,
            details={"from": "waiting", "to": "claimed", "expert": colleague.username},
            at=moment,
        )
        escalation.claimed_at = service.utc(moment)
    else:
        cases.record_step(
            session,
            service.ESCALATIONS,
            escalation,
            actor=actor,
            note=text,
            action=action,
            details={"from_expert": previous, "expert": colleague.username},
            at=moment,
        )
    escalation.offered_to = [colleague.username]
    service.publish(session, escalation)
    session.commit()
    log.info("escalation %s id=%s to=%s by=%s", action, escalation.id, colleague.username, actor)
    return escalation


def widen_offer(
    session: Session, *, escalation: Escalation, moment: datetime | None = None
) -> bool:
    """Offer a still-waiting escalation to every expert; True when this call changed it.

    A conditional UPDATE (waiting, offered to someone) makes it happen once, whichever process
    sweeps first; the consoles see it, and the timeline says so."""
    session.rollback()  # no read transaction open: SQLite's write must see the newest state
    won = session.execute(
        update(Escalation)
        .where(
            Escalation.id == escalation.id,
            Escalation.status == "waiting",
            Escalation.offered_to.is_not(None),
            cast(Escalation.offered_to, String).not_in(["[]", "null"]),
        )
        .values(offered_to=[])
        .execution_options(synchronize_session=False)
    )
    if won.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        return False
    session.refresh(escalation)
    cases.record_step(
        session,
        service.ESCALATIONS,
        escalation,
        actor="system",
        note="无人接入，已推送给全部专家",
        action="widen",
        details={"offered_to": "everyone"},
        at=moment,
    )
    service.publish(session, escalation)
    session.commit()
    log.info("escalation offer widened id=%s", escalation.id)
    return True
