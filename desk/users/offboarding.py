"""An expert who leaves (deactivated, or no longer an expert) hands their consultations back.

What we chose: nobody is picked for the enterprise behind the expert's back. Each consultation
the expert held goes back to the queue — waiting, unassigned, offered to every expert — with a
step on its timeline that says why; the enterprise's messages wait there for the next expert, and
the handoff timers treat it as any waiting consultation (they tell the enterprise when nobody
takes it). The expert leaves the routing pool at once: routing offers only active experts
(desk.users.experts), and every waiting offer naming them forgets them.
"""

import dataclasses
import logging
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from desk import cases
from desk.escalations import service as escalations
from desk.escalations.models import TRANSITIONS, Escalation
from desk.users.models import User

log = logging.getLogger(__name__)

# the one move back the ordinary graph does not have: claimed → waiting, for an expert who left
_REQUEUE = dataclasses.replace(
    escalations.ESCALATIONS,
    transitions={**TRANSITIONS, "claimed": TRANSITIONS["claimed"] | {"waiting"}},
)


def _requeue(
    session: Session, *, escalation_id: int, expert: str, actor: str, note: str, moment: datetime
) -> bool:
    """Back to waiting, unless it changed meanwhile (closed, transferred): a conditional UPDATE."""
    moved = session.execute(
        update(Escalation)
        .where(
            Escalation.id == escalation_id,
            Escalation.status == "claimed",
            Escalation.expert == expert,
        )
        .values(status="waiting", expert=None, claimed_at=None, offered_to=[])
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        return False
    escalation = escalations.get_escalation(session, escalation_id=escalation_id)
    session.refresh(escalation)
    escalation.status = "claimed"  # the row says waiting; the timeline records the move
    cases.transition(
        session,
        _REQUEUE,
        escalation,
        to="waiting",
        actor=actor,
        note=note,
        action="requeue",
        details={"from": "claimed", "to": "waiting", "from_expert": expert},
        at=moment,
    )
    escalations.publish(session, escalation)
    return True


def release_expert(
    session: Session, *, user: User, actor: str, reason: str, moment: datetime
) -> list[int]:
    """Hand back everything ``user`` held and take them out of every offer, in the caller's
    transaction. Returns the ids of the consultations put back in the queue."""
    user.presence, user.presence_at = "away", moment
    held = session.scalars(
        select(Escalation.id).where(
            Escalation.status == "claimed", Escalation.expert == user.username
        )
    ).all()
    note = f"{user.display_name}{reason}，会话已退回队列，等待其他专家接入"
    requeued = [
        escalation_id
        for escalation_id in held
        if _requeue(
            session,
            escalation_id=escalation_id,
            expert=user.username,
            actor=actor,
            note=note,
            moment=moment,
        )
    ]
    for escalation in session.scalars(select(Escalation).where(Escalation.status == "waiting")):
        offered = list(escalation.offered_to or [])
        if user.username in offered:
            # an empty offer means everyone: the expert's colleagues of other domains too
            escalation.offered_to = [name for name in offered if name != user.username]
            escalations.publish(session, escalation)
    if requeued:
        log.info("expert %s left: consultations requeued %s", user.username, requeued)
    return requeued
