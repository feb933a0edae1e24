"""Brute force: too many failed logins under one name lock that name for a while.

The failures are the audit log's own ``auth.login_failed`` entries (no second table, and every
app process sees the same count): ``MAX_FAILURES`` of them within ``WINDOW``, none of them
followed by a successful login, a password reset or a reactivation, lock the name until
``LOCK_FOR`` after the last of them. While locked, every attempt is refused — the right password
too — and recorded as ``auth.login_locked``, which does not extend the lock.
"""

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from desk.audit import AuditEntry
from desk.clock import as_utc
from desk.errors import DeskError

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
LOCK_FOR = timedelta(minutes=15)
FAILED = "auth.login_failed"
LOCKED = "auth.login_locked"
# what proves the person at the keyboard has the (new) password: the count starts again
RESETS = ("auth.login", "user.password_reset", "user.reactivate")


class LoginLocked(DeskError):
    code = "login_locked"
    status = 429

    def __init__(self, *, until: datetime, moment: datetime) -> None:
        self.retry_after_s = max(1, math.ceil((until - moment).total_seconds()))
        minutes = max(1, math.ceil(self.retry_after_s / 60))
        super().__init__(f"登录失败次数过多，该账户已暂时锁定，请 {minutes} 分钟后再试。")


@dataclass(frozen=True)
class FailureState:
    failures: int  # within the window, since the last reset
    locked_until: datetime | None


def state(session: Session, *, subject: str, moment: datetime) -> FailureState:
    since = as_utc(
        session.scalar(
            select(func.max(AuditEntry.at)).where(
                AuditEntry.subject == subject, AuditEntry.action.in_(RESETS)
            )
        )
    )
    start = (moment - WINDOW).astimezone(UTC)  # stored in UTC (SQLite drops the zone)
    if since is not None and since > start:
        start = since
    failures = [
        as_utc(at)
        for at in session.scalars(
            select(AuditEntry.at)
            .where(
                AuditEntry.subject == subject,
                AuditEntry.action == FAILED,
                AuditEntry.at > start,
            )
            .order_by(AuditEntry.at.desc())
        )
    ]
    locked_until = None
    if len(failures) >= MAX_FAILURES and failures[0] is not None:
        until = failures[0] + LOCK_FOR
        locked_until = until if until > moment else None
    return FailureState(failures=len(failures), locked_until=locked_until)


def ensure_unlocked(session: Session, *, subject: str, moment: datetime) -> None:
    """Raise :class:`LoginLocked` while ``subject`` (user:<name> or login:<name>) is locked."""
    found = state(session, subject=subject, moment=moment)
    if found.locked_until is not None:
        raise LoginLocked(until=found.locked_until, moment=moment)
