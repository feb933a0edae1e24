"""The annual summary (§8.1.3) and the public evaluation results (§8.1.1 定期公示).

The summary lists every dissatisfied evaluation of the year (a score of 2 or less on any
dimension, desk/improvements) and every upheld complaint, each with its improvement item: what
was found, what was done, whether it was re-checked and closed. The public results hold
aggregates only: per quarter and per institution with at least ``MIN_PUBLIC_EVALUATIONS``
evaluations, so no single enterprise's evaluation can be read off them.
"""

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from desk.clock import as_utc
from desk.demands.models import Demand, Evaluation
from desk.improvements import service as improvements
from desk.improvements.models import ACTIVE_STATUSES, STATUS_LABELS, ImprovementItem
from desk.reports import unanswered
from desk.reports.escalations import escalation_stats
from desk.reports.schemas import (
    AnnualSummary,
    DissatisfiedEvaluation,
    ImprovementRef,
    ImprovementYear,
    LevelRow,
    PublicInstitution,
    PublicPeriod,
    PublicResults,
    UpheldComplaint,
)
from desk.reports.service import Levels, Tally, local_date, tally, window
from desk.users.service import display_names
from knowledge.personal_data import mask_text

MIN_PUBLIC_EVALUATIONS = 3


def _ref(
    item: ImprovementItem, *, names: dict[str, str], clock: improvements.OverdueClock
) -> ImprovementRef:
    return ImprovementRef(
        number=item.number,
        status=item.status,
        status_label=STATUS_LABELS[item.status],
        cause=item.cause,
        action=item.action,
        owner_name=names.get(item.owner, item.owner) if item.owner else None,
        due_on=item.due_on,
        recheck_note=item.recheck_note,
        evidence=item.evidence,
        closed_at=as_utc(item.closed_at),
        overdue=clock.days_late(item) > 0,
    )


def _year(year: int, today: date) -> tuple[date, date]:
    return date(year, 1, 1), min(date(year, 12, 31), max(today, date(year, 1, 1)))


def annual_summary(session: Session, *, year: int, today: date) -> AnnualSummary:
    start, end = date(year, 1, 1), date(year, 12, 31)
    levels = tally(session, start=start, end=end, today=today)
    names, clock = display_names(session), improvements.overdue_clock(session, today=today)
    items = {
        item.source_key: item
        for item in session.scalars(
            select(ImprovementItem).where(
                ImprovementItem.opened_on >= start, ImprovementItem.opened_on <= end
            )
        )
    }
    lower, upper = window(start, end)
    rows = session.execute(
        select(Evaluation, Demand.number, Demand.chosen_institution_id)
        .join(Demand, Evaluation.demand_id == Demand.id)
        .where(Evaluation.created_at >= lower, Evaluation.created_at < upper)
        .order_by(Evaluation.created_at, Evaluation.id)
    )
    dissatisfied: list[DissatisfiedEvaluation] = []
    evaluated = 0
    for evaluation, number, institution_id in rows:
        given = local_date(evaluation.created_at, naive_is_utc=True)
        if not start <= given <= end:
            continue
        evaluated += 1
        if not improvements.is_dissatisfied(evaluation):
            continue
        item = items.get(f"evaluation:{evaluation.id}") or improvements.find_by_source(
            session, source_key=f"evaluation:{evaluation.id}"
        )
        info = levels.institutions.get(institution_id) if institution_id else None
        dissatisfied.append(
            DissatisfiedEvaluation(
                demand_number=number,
                evaluated_on=given,
                institution=info.title if info else institution_id,
                process=evaluation.process_score,
                efficiency=evaluation.efficiency_score,
                attitude=evaluation.attitude_score,
                overall=evaluation.overall_score,
                comment=mask_text(evaluation.comment or ""),
                improvement=_ref(item, names=names, clock=clock) if item else None,
            )
        )
    upheld = [
        UpheldComplaint(
            complaint_number=item.source_number,
            opened_on=item.opened_on,
            problem=item.problem,
            improvement=_ref(item, names=names, clock=clock),
        )
        for item in sorted(items.values(), key=lambda i: i.id)
        if item.source == "complaint"
    ]
    closed = [i for i in items.values() if i.status == "closed"]
    on_time = [
        i
        for i in closed
        if i.closed_at is not None and local_date(i.closed_at, naive_is_utc=False) <= i.due_on
    ]
    still_open = [i for i in items.values() if i.status in ACTIVE_STATUSES]
    return AnnualSummary(
        year=year,
        as_of=today,
        overall=levels.overall.row("all", f"{year}年全年"),
        by_month=levels.month_rows(),
        by_domain=levels.domain_rows(),
        by_region=levels.region_rows(),
        by_institution=levels.institution_rows(),
        escalations=escalation_stats(session, start=start, end=end).overall,
        dissatisfied=dissatisfied,
        dissatisfied_share=round(len(dissatisfied) / evaluated, 4) if evaluated else None,
        upheld_complaints=upheld,
        improvements=ImprovementYear(
            opened=len(items),
            closed=len(closed),
            closed_on_time=len(on_time),
            still_open=len(still_open),
            overdue=sum(1 for i in still_open if today > i.due_on),
        ),
        unanswered=unanswered.groups(session, start=start, end=end, limit=20),
    )


# --- public results ---------------------------------------------------------------------------


def _satisfied_rate(t: Tally) -> float | None:
    if not t.scores:
        return None
    satisfied = sum(1 for s in t.scores if min(s) > improvements.DISSATISFIED_MAX)
    return round(satisfied / len(t.scores), 4)


def _public_period(key: str, label: str, t: Tally) -> PublicPeriod:
    row: LevelRow = t.row(key, label)
    return PublicPeriod(
        key=key,
        label=label,
        evaluations=row.satisfaction.count,
        process=row.satisfaction.process,
        efficiency=row.satisfaction.efficiency,
        attitude=row.satisfaction.attitude,
        overall=row.satisfaction.overall,
        satisfied_rate=_satisfied_rate(t),
        responded_rate=row.responded.rate,
        recommended_rate=row.recommended.rate,
        complaints=row.complaints,
        investigated_rate=row.investigated.rate,
    )


def _merge(tallies: list[Tally]) -> Tally:
    merged = Tally()
    for t in tallies:
        merged.demands += t.demands
        merged.complaints += t.complaints
        for name in ("responded", "recommended", "investigated"):
            pair, other = getattr(merged, name), getattr(t, name)
            pair[0] += other[0]
            pair[1] += other[1]
        merged.answers = [a + b for a, b in zip(merged.answers, t.answers, strict=True)]
        merged.scores.extend(t.scores)
    return merged


def public_results(session: Session, *, year: int, today: date) -> PublicResults:
    """The year's results by quarter (up to today) and by institution; aggregates only."""
    start, end = _year(year, today)
    levels: Levels = tally(session, start=start, end=end, today=today)
    periods = []
    for quarter in range(1, 5):
        first_month = date(year, 3 * quarter - 2, 1)
        if first_month > end:
            break
        keys = [f"{year}-{m:02d}" for m in range(3 * quarter - 2, 3 * quarter + 1)]
        merged = _merge([levels.by_month[k] for k in keys if k in levels.by_month])
        periods.append(_public_period(f"{year}-Q{quarter}", f"{year}年第{quarter}季度", merged))
    institutions = [
        PublicInstitution(
            title=info.title if (info := levels.institutions.get(key)) else key,
            evaluations=len(t.scores),
            process=row.satisfaction.process,
            efficiency=row.satisfaction.efficiency,
            attitude=row.satisfaction.attitude,
            overall=row.satisfaction.overall,
        )
        for key, t in sorted(levels.by_institution.items())
        if len(t.scores) >= MIN_PUBLIC_EVALUATIONS and (row := t.row(key, key))
    ]
    institutions.sort(key=lambda i: (-(i.overall or 0), -i.evaluations, i.title))
    return PublicResults(
        year=year,
        as_of=today,
        min_evaluations=MIN_PUBLIC_EVALUATIONS,
        periods=periods,
        total=_public_period(str(year), f"{year}年", levels.overall),
        institutions=institutions,
    )
