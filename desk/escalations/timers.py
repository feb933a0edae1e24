"""The timers of a handoff, checked by a sweep every few seconds (any process may run it).

* waiting, offered to a domain's experts and unclaimed after ``offer_widen_after_s``: offered
  to every expert (:func:`desk.escalations.routing.widen_offer`);
* waiting and nobody can take it — outside service hours (created then, or the day ended while
  it waited), no expert online, or unclaimed after ``claim_timeout_s``: the enterprise is told
  once (``Escalation.notice``) and offered to leave its question as a demand;
* claimed with no message from either side for ``idle_timeout_s``: closed with the outcome
  ``timeout``, and the enterprise is told the bot has it again (the WeChat dialogue platform's
  rule).

The decisions are pure functions of plain values. :func:`sweep` applies them: each notice and
each close is won by a conditional UPDATE (on ``notice`` or ``status``), so two processes
sweeping at once do each thing once. The words and the channel belong to the caller (``tell``,
inside the same transaction, so a notice recorded is a notice sent); the desk cannot read the
transcript, so the caller also says when the conversation's last message was
(``last_message_at``).
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from desk.calendar.service import load_calendar
from desk.clock import as_utc
from desk.errors import CalendarUnknown
from desk.escalations import routing, service
from desk.escalations.hours import next_service_start, within_service_hours
from desk.escalations.models import ACTIVE_STATUSES, Escalation
from desk.escalations.settings import ConsultationSettings
from desk.sla import WorkingCalendar
from desk.users.experts import online_experts

log = logging.getLogger(__name__)

NoticeKind = Literal["out_of_hours", "offline", "timeout", "idle"]
WAITING_NOTICES: tuple[NoticeKind, ...] = ("out_of_hours", "offline", "timeout")


@dataclass(frozen=True)
class Notice:
    """What to tell whom: the enterprise of ``conversation_id`` on ``channel``."""

    escalation_id: int
    conversation_id: str
    channel: str
    kind: NoticeKind
    next_service_start: datetime | None = None  # out_of_hours: when experts are back
    idle_minutes: int = 0  # idle: how long nobody wrote


@dataclass
class SweepResult:
    widened: list[int] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)  # told (and, for idle, closed)


# (session, conversation id, since) → the newest message of the user or an expert after since
LastMessageAt = Callable[[Session, str, datetime], datetime | None]
Tell = Callable[[Session, Notice], None]  # adds the notice to the session; never commits


# -- the decisions -------------------------------------------------------------------------


def on_duty(*, moment: datetime, calendar: WorkingCalendar) -> bool:
    """Within service hours; a year the calendar does not know counts as on duty (no false
    'come back later'); the staff are asked to complete the calendar elsewhere."""
    try:
        return within_service_hours(moment, calendar)
    except CalendarUnknown:
        log.warning("working calendar unknown for %s: treated as on duty", moment.date())
        return True


def should_widen(
    *,
    status: str,
    offered_to: list[str] | None,
    created_at: datetime,
    moment: datetime,
    settings: ConsultationSettings,
) -> bool:
    waited = moment - created_at
    return (
        status == "waiting"
        and bool(offered_to)
        and waited >= timedelta(seconds=settings.offer_widen_after_s)
    )


def waiting_notice(
    *,
    status: str,
    notice: str | None,
    created_at: datetime,
    moment: datetime,
    experts_online: int,
    calendar: WorkingCalendar,
    settings: ConsultationSettings,
) -> NoticeKind | None:
    """What a waiting enterprise must be told now, if it was told nothing yet."""
    if status != "waiting" or notice is not None:
        return None
    if not on_duty(moment=moment, calendar=calendar):  # created off duty: the next sweep says so
        return "out_of_hours"
    if experts_online == 0:
        return "offline"
    if moment - created_at >= timedelta(seconds=settings.claim_timeout_s):
        return "timeout"
    return None


def is_idle(
    *,
    status: str,
    claimed_at: datetime | None,
    last_message_at: datetime | None,
    moment: datetime,
    settings: ConsultationSettings,
) -> bool:
    """Claimed, and nobody wrote since the claim (or the last message) for the idle time."""
    if status != "claimed" or claimed_at is None:
        return False
    since = max(claimed_at, last_message_at) if last_message_at else claimed_at
    return moment - since >= timedelta(seconds=settings.idle_timeout_s)


# -- the sweep -----------------------------------------------------------------------------


def sweep(
    session: Session,
    *,
    moment: datetime,
    settings: ConsultationSettings,
    last_message_at: LastMessageAt,
    tell: Tell,
    calendar: WorkingCalendar | None = None,
) -> SweepResult:
    """Apply every timer that is due at ``moment``; each change is its own transaction."""
    calendar = calendar or load_calendar(session)
    experts_online = len(online_experts(session))
    rows = session.execute(
        select(
            Escalation.id,
            Escalation.conversation_id,
            Escalation.channel,
            Escalation.status,
            Escalation.created_at,
            Escalation.claimed_at,
            Escalation.offered_to,
            Escalation.notice,
        )
        .where(Escalation.status.in_(ACTIVE_STATUSES))
        .order_by(Escalation.id)
    ).all()
    session.rollback()
    result = SweepResult()
    for row in rows:
        created_at = as_utc(row.created_at) or moment
        try:
            if row.status == "waiting":
                if should_widen(
                    status=row.status,
                    offered_to=row.offered_to,
                    created_at=created_at,
                    moment=moment,
                    settings=settings,
                ) and _widen(session, row.id, moment):
                    result.widened.append(row.id)
                kind = waiting_notice(
                    status=row.status,
                    notice=row.notice,
                    created_at=created_at,
                    moment=moment,
                    experts_online=experts_online,
                    calendar=calendar,
                    settings=settings,
                )
                if kind is None:
                    continue
                start = next_service_start(moment, calendar) if kind == "out_of_hours" else None
                notice = Notice(row.id, row.conversation_id, row.channel, kind, start)
                if _tell_waiting(session, notice, tell):
                    result.notices.append(notice)
            else:
                claimed_at = as_utc(row.claimed_at)
                last = last_message_at(session, row.conversation_id, claimed_at or created_at)
                if not is_idle(
                    status=row.status,
                    claimed_at=claimed_at,
                    last_message_at=as_utc(last),
                    moment=moment,
                    settings=settings,
                ):
                    continue
                minutes = round(settings.idle_timeout_s / 60)
                notice = Notice(
                    row.id, row.conversation_id, row.channel, "idle", idle_minutes=minutes
                )
                if _close_idle(session, notice, tell, moment):
                    result.notices.append(notice)
        except Exception:  # one escalation's fault must not keep the others waiting
            session.rollback()
            log.exception("escalation timer failed id=%s", row.id)
        finally:
            session.rollback()
    return result


def _widen(session: Session, escalation_id: int, moment: datetime) -> bool:
    escalation = session.get(Escalation, escalation_id)
    return escalation is not None and routing.widen_offer(
        session, escalation=escalation, moment=moment
    )


def _tell_waiting(session: Session, notice: Notice, tell: Tell) -> bool:
    """Told once: whoever sets ``notice`` on the still-waiting row tells, in that transaction."""
    session.rollback()  # no read transaction open: SQLite's write must see the newest state
    won = session.execute(
        update(Escalation)
        .where(
            Escalation.id == notice.escalation_id,
            Escalation.status == "waiting",
            Escalation.notice.is_(None),
        )
        .values(notice=notice.kind)
        .execution_options(synchronize_session=False)
    )
    if won.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        return False
    tell(session, notice)
    escalation = service.get_escalation(session, escalation_id=notice.escalation_id)
    service.publish(session, escalation)  # the console shows what the enterprise was told
    session.commit()
    log.info("escalation notice id=%s kind=%s", notice.escalation_id, notice.kind)
    return True


def _close_idle(session: Session, notice: Notice, tell: Tell, moment: datetime) -> bool:
    """Closed once: whoever marks the still-claimed row closes it and tells the enterprise."""
    session.rollback()
    won = session.execute(
        update(Escalation)
        .where(Escalation.id == notice.escalation_id, Escalation.status == "claimed")
        .values(notice=notice.kind)
        .execution_options(synchronize_session=False)
    )
    if won.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        return False
    service.release(
        session,
        escalation_id=notice.escalation_id,
        actor="system",
        note=f"{notice.idle_minutes}分钟内双方均无消息，已交还智能助手",
        moment=moment,
        supervisor=True,
        outcome="timeout",
        commit=False,
    )
    tell(session, notice)
    session.commit()
    return True
