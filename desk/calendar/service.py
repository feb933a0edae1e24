"""Read and edit the holiday table; build the working calendar from it."""

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from desk import audit
from desk.calendar.models import CalendarDay, CalendarYear
from desk.sla import WorkingCalendar


def load_calendar(session: Session) -> WorkingCalendar:
    overrides = {row.day: row.working for row in session.scalars(select(CalendarDay))}
    years = frozenset(session.scalars(select(CalendarYear.year)))
    return WorkingCalendar(overrides=overrides, complete_years=years)


def set_day(session: Session, *, day: date, working: bool, note: str, actor: str) -> CalendarDay:
    row = session.get(CalendarDay, day) or CalendarDay(day=day)
    row.working, row.note = working, note
    session.add(row)
    audit.record(
        session,
        actor=actor,
        action="calendar.set_day",
        subject=day.isoformat(),
        details={"working": working, "note": note},
    )
    session.commit()
    return row


def mark_year_complete(session: Session, *, year: int, actor: str) -> None:
    if session.get(CalendarYear, year) is None:
        session.add(CalendarYear(year=year))
    audit.record(session, actor=actor, action="calendar.complete_year", subject=str(year))
    session.commit()


def list_days(session: Session, *, year: int) -> list[CalendarDay]:
    query = (
        select(CalendarDay)
        .where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
        .order_by(CalendarDay.day)
    )
    return list(session.scalars(query))
