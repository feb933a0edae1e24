"""Satisfaction and on-time rates by domain, institution and month; keyword-only, free of HTTP.

Demands count in the month they were submitted, complaints in the month they were received,
evaluations in the month they were given. A deadline is *measured* once it is met or has passed:
on time when the step happened on or before its due day. A demand cancelled before a step is not
measured for that step. A demand's domains come from its service ids (one demand may count in two
domains); its institution is the one the enterprise chose.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from desk.clock import CHINA
from desk.complaints.models import Complaint
from desk.demands.models import Demand, Evaluation
from desk.reports.schemas import LevelRow, Rate, Satisfaction, ServiceLevelReport
from knowledge.constants import DOMAIN_LABELS, service_domain

UNSPECIFIED = "unspecified"
SCORES = ("process", "efficiency", "attitude", "overall")


def month_key(day: date) -> str:
    return f"{day:%Y-%m}"


def months(start: date, end: date) -> list[date]:
    """First days of the months from ``start``'s to ``end``'s, inclusive."""
    result, current = [], start.replace(day=1)
    while current <= end:
        result.append(current)
        current = (current + timedelta(days=32)).replace(day=1)
    return result


def _local_date(moment: datetime, *, naive_is_utc: bool) -> date:
    """The China date of a stored moment. SQLite returns naive values: the database's own
    ``now()`` defaults are UTC, values the app wrote are China time."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC if naive_is_utc else CHINA)
    return moment.astimezone(CHINA).date()


@dataclass
class _Tally:
    demands: int = 0
    responded: list[int] = field(default_factory=lambda: [0, 0])  # measured, on time
    recommended: list[int] = field(default_factory=lambda: [0, 0])
    complaints: int = 0
    investigated: list[int] = field(default_factory=lambda: [0, 0])
    scores: list[tuple[int, int, int, int]] = field(default_factory=list)

    def row(self, key: str, label: str) -> LevelRow:
        def rate(pair: list[int]) -> Rate:
            measured, on_time = pair
            return Rate(
                measured=measured,
                on_time=on_time,
                rate=round(on_time / measured, 4) if measured else None,
            )

        satisfaction = Satisfaction(count=len(self.scores))
        if self.scores:
            for i, name in enumerate(SCORES):
                average = sum(s[i] for s in self.scores) / len(self.scores)
                setattr(satisfaction, name, round(average, 2))
        return LevelRow(
            key=key,
            label=label,
            demands=self.demands,
            responded=rate(self.responded),
            recommended=rate(self.recommended),
            complaints=self.complaints,
            investigated=rate(self.investigated),
            satisfaction=satisfaction,
        )


def _step(
    pair: list[int], *, done: datetime | None, due: date, cancelled: bool, today: date
) -> None:
    if done is not None:
        pair[0] += 1
        pair[1] += _local_date(done, naive_is_utc=False) <= due
    elif not cancelled and today > due:
        pair[0] += 1


def demand_domains(demand: Demand) -> set[str]:
    return {service_domain(s) for s in demand.service_ids} or {UNSPECIFIED}


def _window(start: date, end: date) -> tuple[datetime, datetime]:
    """A UTC window a day wider than the months, for the database to narrow rows by."""
    lower = datetime.combine(start - timedelta(days=1), time(), tzinfo=UTC)
    upper = datetime.combine(end + timedelta(days=2), time(), tzinfo=UTC)
    return lower, upper


def service_levels(
    session: Session,
    *,
    start: date,
    end: date,
    today: date,
    institution_titles: Mapping[str, str] | None = None,
) -> ServiceLevelReport:
    """The report for the months from ``start`` to ``end`` (any day in them), inclusive."""
    first = start.replace(day=1)
    month_list = months(first, end)
    last = (month_list[-1] + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    lower, upper = _window(first, last)
    titles = dict(institution_titles) if institution_titles is not None else institution_names()

    overall = _Tally()
    by_domain: dict[str, _Tally] = defaultdict(_Tally)
    by_institution: dict[str, _Tally] = defaultdict(_Tally)
    by_month: dict[str, _Tally] = defaultdict(_Tally)

    def tallies(month: str, domains: Iterable[str], institution: str | None) -> list[_Tally]:
        found = [overall, by_month[month], *(by_domain[d] for d in domains)]
        return found + ([by_institution[institution]] if institution else [])

    demands = session.scalars(
        select(Demand).where(Demand.created_at >= lower, Demand.created_at < upper)
    )
    for demand in demands:
        submitted = _local_date(demand.created_at, naive_is_utc=True)
        if not first <= submitted <= last:
            continue
        cancelled = demand.status == "cancelled"
        for tally in tallies(
            month_key(submitted), demand_domains(demand), demand.chosen_institution_id
        ):
            tally.demands += 1
            _step(
                tally.responded,
                done=demand.responded_at,
                due=demand.respond_due,
                cancelled=cancelled,
                today=today,
            )
            _step(
                tally.recommended,
                done=demand.recommended_at,
                due=demand.recommend_due,
                cancelled=cancelled,
                today=today,
            )

    complaints = session.scalars(
        select(Complaint).where(Complaint.received_on >= first, Complaint.received_on <= last)
    )
    for complaint in complaints:
        if complaint.institution_id and complaint.institution_title:
            titles.setdefault(complaint.institution_id, complaint.institution_title)
        for tally in tallies(month_key(complaint.received_on), (), complaint.institution_id):
            tally.complaints += 1
            _step(
                tally.investigated,
                done=complaint.resolved_at,
                due=complaint.investigation_due,
                cancelled=False,
                today=today,
            )

    evaluations = session.execute(
        select(Evaluation, Demand)
        .join(Demand, Evaluation.demand_id == Demand.id)
        .where(Evaluation.created_at >= lower, Evaluation.created_at < upper)
    )
    for evaluation, demand in evaluations:
        given = _local_date(evaluation.created_at, naive_is_utc=True)
        if not first <= given <= last:
            continue
        scores = (
            evaluation.process_score,
            evaluation.efficiency_score,
            evaluation.attitude_score,
            evaluation.overall_score,
        )
        for tally in tallies(
            month_key(given), demand_domains(demand), demand.chosen_institution_id
        ):
            tally.scores.append(scores)

    domain_labels = DOMAIN_LABELS | {UNSPECIFIED: "未指定服务"}
    domain_keys = [*DOMAIN_LABELS, *([UNSPECIFIED] if UNSPECIFIED in by_domain else [])]
    return ServiceLevelReport(
        start=month_key(first),
        end=month_key(last),
        as_of=today,
        overall=overall.row("all", "全部"),
        by_domain=[by_domain[k].row(k, domain_labels[k]) for k in domain_keys],
        by_institution=[by_institution[k].row(k, titles.get(k, k)) for k in sorted(by_institution)],
        by_month=[
            by_month[month_key(m)].row(month_key(m), f"{m.year}年{m.month}月") for m in month_list
        ],
    )


def institution_names() -> dict[str, str]:
    """Titles of the knowledge base's institutions; none when it cannot be read."""
    from knowledge.store import KnowledgeError
    from retrieval.live import live_knowledge

    try:
        return {i.id: i.title for i in live_knowledge().institutions}
    except KnowledgeError:
        return {}
