"""The audit log for admins: one list of every entry (logins, accounts, the desk's cases,
knowledge), filtered by actor, action, subject and period, newest first, in pages; and the rate
of failed logins."""

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import func, select

from desk import audit
from desk.audit.labels import ACTION_LABELS, AREA_LABELS, action_label
from desk.audit.schemas import (
    ActionOption,
    AuditEntryPublic,
    AuditPage,
    FailedLogins,
    LoginFailureRate,
)
from desk.clock import as_utc, now
from desk.deps import AdminDep, SessionDep
from desk.errors import InvalidInput
from desk.users import lockout

router = APIRouter(prefix="/api/audit", tags=["audit"])


@router.get("", response_model=AuditPage)
def list_entries(
    session: SessionDep,
    _: AdminDep,
    actor: Annotated[str | None, Query(max_length=40)] = None,
    action: Annotated[str | None, Query(max_length=40)] = None,
    subject: Annotated[str | None, Query(max_length=60)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AuditPage:
    """``action`` is a code (auth.login) or an area ending in a dot (auth.); ``subject`` matches
    a part (a case number, user:<name>); ``until`` is exclusive."""
    if since and until and until <= since:
        raise InvalidInput("结束时间需晚于开始时间。", code="invalid_period")
    entries, total = audit.search(
        session,
        where=audit.AuditFilter(
            actor=actor or None,
            action=action or None,
            subject=subject or None,
            since=since,
            until=until,
        ),
        offset=(page - 1) * page_size,
        limit=page_size,
    )
    items = [
        AuditEntryPublic(
            id=e.id,
            at=as_utc(e.at) or e.at,
            actor=e.actor,
            action=e.action,
            action_label=action_label(e.action),
            subject=e.subject,
            details=e.details or {},
        )
        for e in entries
    ]
    return AuditPage(items=items, total=total, page=page, page_size=page_size)


@router.get("/actions", response_model=list[ActionOption])
def actions(_: AdminDep) -> list[ActionOption]:
    """The filter's choices: each area (``auth.``) and each known action."""
    areas = [ActionOption(value=f"{k}.", label=f"{v}（全部）") for k, v in AREA_LABELS.items()]
    known = [ActionOption(value=k, label=v) for k, v in ACTION_LABELS.items()]
    return areas + known


@router.get("/login-failures", response_model=LoginFailureRate)
def login_failures(
    session: SessionDep, _: AdminDep, limit: Annotated[int, Query(ge=1, le=100)] = 20
) -> LoginFailureRate:
    moment = now()
    day_ago, hour_ago = moment - timedelta(days=1), moment - timedelta(hours=1)
    failed = audit.AuditEntry.action == lockout.FAILED

    def count(since: datetime) -> int:
        query = select(func.count()).select_from(audit.AuditEntry)
        at = audit.AuditEntry.at >= since.astimezone(UTC)  # stored in UTC
        return int(session.scalar(query.where(failed, at)) or 0)

    rows = session.execute(
        select(audit.AuditEntry.subject, func.count(), func.max(audit.AuditEntry.at))
        .where(failed, audit.AuditEntry.at >= day_ago.astimezone(UTC))
        .group_by(audit.AuditEntry.subject)
        .order_by(func.count().desc(), func.max(audit.AuditEntry.at).desc())
        .limit(limit)
    ).all()
    subjects = []
    for subject, failures, last_at in rows:
        state = lockout.state(session, subject=str(subject), moment=moment)
        subjects.append(
            FailedLogins(
                subject=str(subject),
                failures=int(failures),
                last_at=as_utc(last_at) or last_at,
                locked_until=state.locked_until,
            )
        )
    return LoginFailureRate(
        last_hour=count(hour_ago),
        last_day=count(day_ago),
        locked_now=sum(1 for s in subjects if s.locked_until is not None),
        subjects=subjects,
    )
