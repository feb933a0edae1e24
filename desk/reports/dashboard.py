"""The managing authority's dashboard (§8.1) for one period, assembled from the reports."""

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from desk.improvements import service as improvements
from desk.improvements.models import ACTIVE_STATUSES, SOURCE_LABELS, STATUS_LABELS, ImprovementItem
from desk.reports import unanswered
from desk.reports.escalations import escalation_stats
from desk.reports.period import Period
from desk.reports.schemas import DashboardReport, ImprovementBrief, ImprovementSummary
from desk.reports.service import tally
from desk.users.service import display_names

TOP_UNANSWERED = 20
ATTENTION = 10


def improvement_summary(session: Session, *, period: Period, today: date) -> ImprovementSummary:
    counts = {s: 0 for s in STATUS_LABELS}
    for status, n in session.execute(
        select(ImprovementItem.status, func.count()).group_by(ImprovementItem.status)
    ):
        counts[status] = n
    opened = session.scalar(
        select(func.count()).where(
            ImprovementItem.opened_on >= period.start, ImprovementItem.opened_on <= period.end
        )
    )
    lower = datetime.combine(period.start, time(), tzinfo=UTC) - timedelta(hours=8)
    upper = datetime.combine(period.end + timedelta(days=1), time(), tzinfo=UTC) - timedelta(
        hours=8
    )  # China midnight to midnight
    closed = session.scalar(
        select(func.count()).where(
            ImprovementItem.closed_at >= lower, ImprovementItem.closed_at < upper
        )
    )
    active = session.scalars(
        select(ImprovementItem)
        .where(ImprovementItem.status.in_(ACTIVE_STATUSES))
        .order_by(ImprovementItem.due_on, ImprovementItem.id)
        .limit(ATTENTION)
    )
    clock, names = improvements.overdue_clock(session, today=today), display_names(session)
    return ImprovementSummary(
        counts=counts,
        overdue=improvements.count_overdue(session, today=today),
        opened_in_period=opened or 0,
        closed_in_period=closed or 0,
        attention=[
            ImprovementBrief(
                number=item.number,
                source_label=SOURCE_LABELS[item.source],
                source_number=item.source_number,
                problem=item.problem,
                owner_name=names.get(item.owner, item.owner) if item.owner else None,
                due_on=item.due_on,
                status_label=STATUS_LABELS[item.status],
                overdue_days=clock.days_late(item),
            )
            for item in active
        ],
    )


def dashboard(session: Session, *, period: Period, today: date) -> DashboardReport:
    levels = tally(session, start=period.start, end=period.end, today=today)
    groups = unanswered.groups(session, start=period.start, end=period.end, limit=10_000)
    return DashboardReport(
        start=period.start,
        end=period.end,
        as_of=today,
        overall=levels.overall.row("all", "全部"),
        by_domain=levels.domain_rows(),
        by_region=levels.region_rows(),
        by_institution=levels.institution_rows(),
        by_month=levels.month_rows(),
        escalations=escalation_stats(session, start=period.start, end=period.end),
        unanswered=groups[:TOP_UNANSWERED],
        unanswered_messages=sum(g.count for g in groups),
        improvements=improvement_summary(session, period=period, today=today),
    )
