"""What the demand and complaint boards share: the search box, paging, counts per status, how
late a case is in working days, and handing a case to a staff member.

Keyword-only and free of HTTP. Each board (desk/demands/board.py, desk/complaints/board.py)
turns its filters into SQL conditions; this module runs them.
"""

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import ColumnElement, false, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from desk import cases
from desk.errors import CalendarUnknown, InvalidInput
from desk.sla import WorkingCalendar
from desk.timeline import TimelineStep
from desk.users.models import User

M = TypeVar("M")
PHONE_MIN_DIGITS = 4  # fewer digits match too many numbers to be a phone search
ASSIGNABLE_ROLES = frozenset({"staff", "admin"})
UNASSIGNED = "none"  # the assignee filter's value for cases nobody holds yet


class StatusCount(BaseModel):
    status: str
    label: str
    count: int


def next_moves(
    kind: cases.CaseKind[Any], status: str, *, allowed: Sequence[str]
) -> list["StatusCount"]:
    """The statuses staff may move a case to from ``status`` (of those the API takes), in the
    lifecycle's order; ``count`` is unused (0)."""
    return [
        StatusCount(status=code, label=label, count=0)
        for code, label in kind.labels.items()
        if code in kind.transitions[status] and code in allowed
    ]


class InstitutionPick(BaseModel):
    """An institution a case names, as the detail page shows it."""

    id: str
    title: str
    region: str | None = None
    reason: str = ""  # why it fits the need (demands)
    chosen: bool = False  # the one the enterprise chose (demands) or the one complained about


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def search_clause(
    q: str | None,
    *,
    number: InstrumentedAttribute[str],
    texts: Sequence[InstrumentedAttribute[Any]],
    mobile: InstrumentedAttribute[Any],
    phone_allowed: bool,
) -> ColumnElement[bool] | None:
    """One box: a case number, a name (enterprise, contact, institution) or a phone number.

    A phone number is compared digit by digit (``139 1234-5678`` finds ``13912345678``), and only
    for callers who see mobiles in full: others could learn a number by searching for it."""
    text = (q or "").strip()
    if not text:
        return None
    like = f"%{text}%"
    clauses: list[ColumnElement[bool]] = [number.ilike(like)]
    clauses += [column.ilike(like) for column in texts]
    wanted = digits(text)
    if phone_allowed and len(wanted) >= PHONE_MIN_DIGITS and len(wanted) * 2 >= len(text):
        clauses.append(mobile.like(f"%{wanted}%"))
    return or_(*clauses)


def page_and_counts(
    session: Session,
    model: type[M],
    *,
    conditions: Sequence[ColumnElement[bool]],
    status_column: InstrumentedAttribute[str],
    status: str | None,
    labels: Mapping[str, str],
    order_by: Sequence[Any],
    page: int,
    size: int,
) -> tuple[list[M], int, list[StatusCount]]:
    """(rows of the page, total under every filter, counts per status under the other filters).

    The counts leave the status filter out, so the tabs show what each status holds."""
    by_status = dict(
        session.execute(
            select(status_column, func.count())
            .select_from(model)
            .where(*conditions)
            .group_by(status_column)
        ).all()
    )
    counts = [
        StatusCount(status=code, label=label, count=int(by_status.get(code, 0)))
        for code, label in labels.items()
    ]
    everything = [*conditions, status_column == status] if status else list(conditions)
    total = int(session.scalar(select(func.count()).select_from(model).where(*everything)) or 0)
    rows = session.scalars(
        select(model).where(*everything).order_by(*order_by).offset((page - 1) * size).limit(size)
    )
    return list(rows), total, counts


class Lateness:
    """Working days late for the due dates of a page at once: one walk back over the calendar from
    today to the earliest due date (a row a year late costs a dictionary look-up, not a year)."""

    def __init__(self, calendar: WorkingCalendar, today: date, dues: Iterable[date]) -> None:
        self._after: dict[date, int] = {today: 0}  # day → working days after it up to today
        earliest = min(dues, default=today)
        day, count = today, 0
        try:
            while day > earliest:
                count += calendar.is_working_day(day)
                day -= timedelta(days=1)
                self._after[day] = count
        except CalendarUnknown:  # days before it cannot be counted: the rows say "late"
            pass

    def __call__(self, due: date) -> int | None:
        """Working days after ``due`` up to today (0 on the weekend right after it); None when the
        holiday table does not cover the days between (the board still shows the case as late)."""
        return self._after.get(due)


S = TypeVar("S", bound=TimelineStep)


def status_moves(steps: Sequence[S]) -> list[S]:
    """The steps that moved the status: what the enterprise may read of a timeline (the bot
    repeats notes to it); staff notes that keep the status (assigned, told) stay in the desk."""
    return [s for s in steps if s.from_status != s.to_status]


def in_ids(column: InstrumentedAttribute[Any], ids: Sequence[str]) -> ColumnElement[bool]:
    """``column IN ids``; no id matches nothing (rather than everything)."""
    return column.in_(list(ids)) if ids else false()


def assign(
    session: Session,
    kind: cases.CaseKind[Any],
    case: Any,
    *,
    assignee: str | None,
    actor: str,
    note: str = "",
) -> None:
    """Hand the case to a staff member (or to nobody): the column, a timeline step and an audit
    entry, in the caller's transaction."""
    previous = case.assignee
    if assignee is not None:
        user = session.scalar(select(User).where(User.username == assignee))
        if user is None or not user.active or user.role not in ASSIGNABLE_ROLES:
            raise InvalidInput(
                f"“{assignee}”不是在职的工作人员，不能指派。", code="assignee_invalid"
            )
        words = f"指派给 {user.display_name}"
    else:
        words = "取消指派"
    if previous == assignee:
        return
    case.assignee = assignee
    cases.record_step(
        session,
        kind,
        case,
        actor=actor,
        note=f"{words}。{note.strip()}" if note.strip() else f"{words}。",
        action="assign",
        details={"from": previous, "to": assignee},
    )
