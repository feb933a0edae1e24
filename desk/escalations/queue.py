"""Where a waiting enterprise stands: its place in the queue, who is online, the likely wait."""

from statistics import median

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from desk.escalations.models import Escalation
from desk.users.experts import online_experts

DEFAULT_WAIT_MINUTES = 5  # before any consultation was claimed here
RECENT_CLAIMS = 20


class Standing(BaseModel):
    queue_position: int  # 1: next to be taken
    experts_online: int
    expected_wait_minutes: int


def expected_wait_minutes(session: Session) -> int:
    """The median wait of the last claimed consultations (what enterprises really waited)."""
    rows = session.execute(
        select(Escalation.created_at, Escalation.claimed_at)
        .where(Escalation.claimed_at.is_not(None))
        .order_by(Escalation.id.desc())
        .limit(RECENT_CLAIMS)
    ).all()
    waits = [(c - a).total_seconds() / 60 for a, c in rows if a is not None and c is not None]
    return max(1, round(median(waits))) if waits else DEFAULT_WAIT_MINUTES


def standing(session: Session, *, escalation: Escalation) -> Standing:
    ahead = session.scalar(
        select(func.count())
        .select_from(Escalation)
        .where(Escalation.status == "waiting", Escalation.id < escalation.id)
    )
    position = int(ahead or 0) + 1
    online = len(online_experts(session))
    per_expert = expected_wait_minutes(session)
    return Standing(
        queue_position=position,
        experts_online=online,
        expected_wait_minutes=per_expert * max(1, -(-position // max(online, 1))),
    )
