"""Service-level reports for staff: GET /api/reports/service-levels."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from desk.clock import today
from desk.deps import SessionDep, StaffDep
from desk.errors import InvalidInput
from desk.reports import service
from desk.reports.schemas import ServiceLevelReport

router = APIRouter(prefix="/api/reports", tags=["reports"])
MonthQuery = Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")]
MAX_MONTHS = 36


def _month(text: str) -> date:
    year, month = text.split("-")
    return date(int(year), int(month), 1)


@router.get("/service-levels", response_model=ServiceLevelReport)
def service_levels(
    session: SessionDep,
    _staff: StaffDep,
    month: MonthQuery = None,
    start: MonthQuery = None,
    end: MonthQuery = None,
) -> ServiceLevelReport:
    """One month (``month``), or the months from ``start`` to ``end``; this month by default."""
    if month and (start or end):
        raise InvalidInput("请只指定月份，或只指定起止月份。", code="month_range_invalid")
    current = today().replace(day=1)
    first = _month(since) if (since := month or start) else current
    last = _month(until) if (until := month or end) else (first if start else current)
    if first > last:
        raise InvalidInput("起始月份不能晚于截止月份。", code="month_range_invalid")
    if len(service.months(first, last)) > MAX_MONTHS:
        raise InvalidInput(f"一次最多统计 {MAX_MONTHS} 个月。", code="month_range_invalid")
    return service.service_levels(session, start=first, end=last, today=today())
