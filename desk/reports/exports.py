"""The dashboard's tables and the annual summary as XLSX workbooks."""

from collections.abc import Callable
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from desk.clock import as_utc
from desk.improvements import service as improvements
from desk.improvements.models import ImprovementItem
from desk.reports import unanswered
from desk.reports.annual import annual_summary
from desk.reports.escalations import escalation_stats
from desk.reports.period import Period
from desk.reports.schemas import DissatisfiedEvaluation, ImprovementRef, UpheldComplaint
from desk.reports.service import Levels, tally
from desk.reports.xlsx import (
    Column,
    Sheet,
    escalation_columns,
    level_columns,
    unanswered_columns,
    workbook,
)
from desk.users.service import display_names

TABLE_TITLES = {
    "domains": "按服务领域",
    "regions": "按区域",
    "months": "按月份",
    "institutions": "按服务机构",
    "escalations": "转人工与等待时间",
    "unanswered": "未能解答的问题",
    "improvements": "改进事项",
}


def _note(period: Period, what: str = "") -> str:
    return f"统计期间：{period.start:%Y-%m-%d} 至 {period.end:%Y-%m-%d}{what}"


def _improvement_columns() -> list[Column]:
    return [
        Column("编号", lambda i: i.number, 16),
        Column("来源", lambda i: i.source_label, 12),
        Column("来源编号", lambda i: i.source_number, 16),
        Column("问题", lambda i: i.problem, 40),
        Column("原因分析", lambda i: i.cause, 30),
        Column("整改措施", lambda i: i.action, 30),
        Column("责任人", lambda i: i.owner_name or "", 10),
        Column("整改期限", lambda i: i.due_on, 12),
        Column("状态", lambda i: i.status_label, 10),
        Column("超期工作日", lambda i: i.overdue_days, 10),
        Column("复查结论", lambda i: i.recheck_note, 30),
        Column("整改证据", lambda i: i.evidence, 30),
        Column("生成日期", lambda i: i.opened_on, 12),
        Column("关闭时间", lambda i: as_utc(i.closed_at), 17),
    ]


def improvements_sheet(session: Session, *, period: Period, today: date) -> Sheet:
    """The items opened in the period, with their whole plan and outcome."""
    clock, names = improvements.overdue_clock(session, today=today), display_names(session)
    items = session.scalars(
        select(ImprovementItem)
        .where(ImprovementItem.opened_on >= period.start, ImprovementItem.opened_on <= period.end)
        .order_by(ImprovementItem.id)
    )
    rows = [improvements.public(i, today=today, clock=clock, names=names) for i in items]
    return Sheet("改进事项", _improvement_columns(), rows, _note(period, "（按生成日期）"))


def table_sheet(
    session: Session, *, table: str, period: Period, today: date, levels: Levels | None = None
) -> Sheet:
    title = TABLE_TITLES[table]
    if table == "improvements":
        return improvements_sheet(session, period=period, today=today)
    if table == "unanswered":
        groups = unanswered.groups(session, start=period.start, end=period.end, limit=100_000)
        return Sheet(title, unanswered_columns(), groups, _note(period, "（按归一化文本合并）"))
    if table == "escalations":
        stats = escalation_stats(session, start=period.start, end=period.end)
        rows = [stats.overall, *stats.by_month, *stats.by_reason, *stats.by_domain]
        return Sheet(title, escalation_columns("分组"), rows, _note(period))
    if levels is None:
        levels = tally(session, start=period.start, end=period.end, today=today)
    builders: dict[str, tuple[str, Callable[[], list]]] = {  # type: ignore[type-arg]
        "domains": ("服务领域", levels.domain_rows),
        "regions": ("区域", levels.region_rows),
        "months": ("月份", levels.month_rows),
        "institutions": ("服务机构", levels.institution_rows),
    }
    first, rows_of = builders[table]
    total = levels.overall.row("all", "合计")
    return Sheet(
        title,
        level_columns(first),
        [*rows_of(), total],
        _note(period, f"；截至 {today:%Y-%m-%d}，期限未到且未办结的不计入按时率"),
    )


def table_workbook(session: Session, *, table: str, period: Period, today: date) -> bytes:
    return workbook([table_sheet(session, table=table, period=period, today=today)])


def dashboard_workbook(session: Session, *, period: Period, today: date) -> bytes:
    """Every table of the dashboard, one sheet each."""
    levels = tally(session, start=period.start, end=period.end, today=today)  # once for four
    return workbook(
        table_sheet(session, table=t, period=period, today=today, levels=levels)
        for t in TABLE_TITLES
    )


def _ref_columns(get: Callable[[object], ImprovementRef | None]) -> list[Column]:
    def field(name: str) -> Callable[[object], object]:
        return lambda row: getattr(ref, name) if (ref := get(row)) is not None else ""

    return [
        Column("改进事项", field("number"), 16),
        Column("原因分析", field("cause"), 30),
        Column("整改措施", field("action"), 30),
        Column("责任人", field("owner_name"), 10),
        Column("状态", field("status_label"), 10),
        Column("复查结论", field("recheck_note"), 30),
        Column("整改证据", field("evidence"), 30),
    ]


def annual_workbook(session: Session, *, year: int, today: date) -> bytes:
    summary = annual_summary(session, year=year, today=today)
    note = f"{year} 年度；截至 {today:%Y-%m-%d}"

    def dissatisfied(row: object) -> ImprovementRef | None:
        assert isinstance(row, DissatisfiedEvaluation)
        return row.improvement

    def upheld(row: object) -> ImprovementRef | None:
        assert isinstance(row, UpheldComplaint)
        return row.improvement

    return workbook(
        [
            Sheet(
                f"{year}年度总结",
                level_columns("月份"),
                [*summary.by_month, summary.overall],
                note,
            ),
            Sheet("按服务领域", level_columns("服务领域"), summary.by_domain, note),
            Sheet("按区域", level_columns("区域"), summary.by_region, note),
            Sheet("按服务机构", level_columns("服务机构"), summary.by_institution, note),
            Sheet(
                "不满意评价及整改",
                [
                    Column("需求编号", lambda r: r.demand_number, 16),
                    Column("评价日期", lambda r: r.evaluated_on, 12),
                    Column("服务机构", lambda r: r.institution or "", 24),
                    Column("流程", lambda r: r.process, 6),
                    Column("效率", lambda r: r.efficiency, 6),
                    Column("态度", lambda r: r.attitude, 6),
                    Column("总体", lambda r: r.overall, 6),
                    Column("评价意见", lambda r: r.comment, 30),
                    *_ref_columns(dissatisfied),
                ],
                summary.dissatisfied,
                note + "；任一项评分 ≤ 2 分（满分 5 分）为不满意",
            ),
            Sheet(
                "投诉成立及整改",
                [
                    Column("投诉编号", lambda r: r.complaint_number, 16),
                    Column("认定日期", lambda r: r.opened_on, 12),
                    Column("问题", lambda r: r.problem, 40),
                    *_ref_columns(upheld),
                ],
                summary.upheld_complaints,
                note,
            ),
            Sheet("未能解答的问题", unanswered_columns(), summary.unanswered, note),
        ]
    )
