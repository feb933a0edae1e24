"""Service levels in Chinese working days (statutory holidays and 调休 weekends).

chinesecalendar knows the State Council's published years; staff add the days of a year it does
not know yet (or correct one) in the holiday table. A date that neither covers is an explicit
error, never a guess. A deadline of ``n`` working days ends with the n-th working day after the
day of submission.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

import chinese_calendar

from desk.errors import CalendarUnknown

RESPOND_WORKING_DAYS = 1  # §7.2.2.2.1: response within 1 working day
RECOMMEND_WORKING_DAYS = 3  # §7.2.2.2.1: recommendation within 3 working days
COMPLAINT_WORKING_DAYS = 7  # §7.4.3: investigation within 7 working days
REVIEW_WORKING_DAYS = 3  # §7.1.1.5: registration review within 3 working days


@dataclass(frozen=True)
class WorkingCalendar:
    """chinesecalendar plus the staff-maintained table: {day: is_working_day}."""

    overrides: Mapping[date, bool] = field(default_factory=dict)
    # years the table covers completely (staff entered all holidays and 调休 days of that year)
    complete_years: frozenset[int] = frozenset()

    def is_working_day(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError as exc:
            if day.year in self.complete_years:
                return day.weekday() < 5
            raise CalendarUnknown(
                f"{day.year} 年的法定节假日安排尚未录入，无法计算工作日，请在节假日表中补充。"
            ) from exc

    def add_working_days(self, start: date, days: int) -> date:
        if days < 1:
            raise ValueError("days must be at least 1")
        current, counted = start, 0
        while counted < days:
            current += timedelta(days=1)
            if self.is_working_day(current):
                counted += 1
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 when end ≤ start)."""
        count, current = 0, start
        while current < end:
            current += timedelta(days=1)
            count += self.is_working_day(current)
        return count


DEFAULT_CALENDAR = WorkingCalendar()


def is_working_day(day: date) -> bool:
    return DEFAULT_CALENDAR.is_working_day(day)


def add_working_days(start: date, days: int) -> date:
    return DEFAULT_CALENDAR.add_working_days(start, days)
