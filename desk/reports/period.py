"""The period of a report: from/to dates (China days, both inclusive), this month by default."""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated

from fastapi import Depends, Query

from desk.clock import today
from desk.errors import InvalidInput

MAX_DAYS = 3 * 366 + 1  # three years


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def make_period(start: date | None, end: date | None, *, on: date) -> Period:
    first = start or on.replace(day=1)
    last = end or (on if start is None else max(first, on))
    if first > last:
        raise InvalidInput("开始日期不能晚于结束日期。", code="period_invalid")
    if (last - first) > timedelta(days=MAX_DAYS - 1):
        raise InvalidInput("一次最多统计三年。", code="period_invalid")
    return Period(first, last)


def period_query(
    start: Annotated[
        date | None, Query(alias="from", description="first day, YYYY-MM-DD; this month's first")
    ] = None,
    end: Annotated[
        date | None, Query(alias="to", description="last day (inclusive), YYYY-MM-DD; today")
    ] = None,
) -> Period:
    return make_period(start, end, on=today())


PeriodDep = Annotated[Period, Depends(period_query)]
