"""Reports for staff (service levels, the dashboard, exports, the annual summary), the bot's
report of what it could not answer, and the public evaluation results (no login)."""

from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Response, status

from desk.clock import today
from desk.deps import ServiceDep, SessionDep, StaffDep
from desk.errors import InvalidInput
from desk.reports import annual, exports, service, unanswered
from desk.reports.dashboard import dashboard as build_dashboard
from desk.reports.period import PeriodDep
from desk.reports.schemas import (
    AnnualSummary,
    DashboardReport,
    PublicResults,
    ServiceLevelReport,
    UnansweredCreate,
    UnansweredGroup,
    UnansweredRecorded,
)
from desk.reports.xlsx import MEDIA_TYPE

router = APIRouter(prefix="/api/reports", tags=["reports"])
public_router = APIRouter(prefix="/api/public", tags=["public"])
MonthQuery = Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")]
YearPath = Annotated[int, Path(ge=2000, le=2100)]
YearQuery = Annotated[int | None, Query(ge=2000, le=2100)]
MAX_MONTHS = 36
TableName = Literal[
    "all", "domains", "regions", "months", "institutions", "escalations", "unanswered",
    "improvements",
]  # fmt: skip
XLSX_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {MEDIA_TYPE: {}}, "description": "XLSX workbook"}
}


def _month(text: str) -> date:
    year, month = text.split("-")
    return date(int(year), int(month), 1)


def _xlsx(content: bytes, filename: str) -> Response:
    return Response(
        content,
        media_type=MEDIA_TYPE,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"},
    )


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


@router.get("/dashboard", response_model=DashboardReport)
def dashboard(session: SessionDep, _staff: StaffDep, period: PeriodDep) -> DashboardReport:
    """Everything the dashboard shows for the days ``from`` to ``to`` (this month by default)."""
    return build_dashboard(session, period=period, today=today())


@router.get("/unanswered", response_model=list[UnansweredGroup])
def unanswered_groups(
    session: SessionDep,
    _staff: StaffDep,
    period: PeriodDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[UnansweredGroup]:
    """What the bot could not answer, grouped by normalised text, most frequent first."""
    return unanswered.groups(session, start=period.start, end=period.end, limit=limit)


@router.post("/unanswered", response_model=UnansweredRecorded, status_code=201)
def record_unanswered(
    body: UnansweredCreate, session: SessionDep, _bot: ServiceDep, response: Response
) -> UnansweredRecorded:
    """The bot reports a message it could not answer; the same message again changes nothing."""
    row, created = unanswered.record(session, data=body)
    if not created:
        response.status_code = status.HTTP_200_OK
    return UnansweredRecorded(id=row.id, normalised=row.normalised, created=created)


@router.get("/export/{table}", response_class=Response, responses=XLSX_RESPONSE)
def export_table(
    table: TableName, session: SessionDep, _staff: StaffDep, period: PeriodDep
) -> Response:
    """One table of the dashboard (or ``all``: every table, a sheet each) as XLSX."""
    on = today()
    if table == "all":
        content = exports.dashboard_workbook(session, period=period, today=on)
        title = "统计看板"
    else:
        content = exports.table_workbook(session, table=table, period=period, today=on)
        title = exports.TABLE_TITLES[table]
    return _xlsx(content, f"{title}_{period.start:%Y%m%d}-{period.end:%Y%m%d}.xlsx")


@router.get("/annual/{year}", response_model=AnnualSummary)
def annual_summary(year: YearPath, session: SessionDep, _staff: StaffDep) -> AnnualSummary:
    """§8.1.3: the year summed up, with the dissatisfied evaluations and what was done."""
    return annual.annual_summary(session, year=year, today=today())


@router.get("/annual/{year}/export", response_class=Response, responses=XLSX_RESPONSE)
def annual_export(year: YearPath, session: SessionDep, _staff: StaffDep) -> Response:
    content = exports.annual_workbook(session, year=year, today=today())
    return _xlsx(content, f"{year}年度服务评价总结.xlsx")


@public_router.get("/evaluation-results", response_model=PublicResults)
def evaluation_results(session: SessionDep, year: YearQuery = None) -> PublicResults:
    """§8.1.1 定期公示: the year's results per quarter and per institution; no login, no
    personal data (aggregates only)."""
    on = today()
    chosen = year or on.year
    if chosen > on.year:
        raise InvalidInput("该年度尚无评价结果。", code="year_invalid")
    return annual.public_results(session, year=chosen, today=on)
