"""Satisfaction and on-time rates by domain, region, institution and month; keyword-only, free
of HTTP.

Demands count on the day they were submitted, complaints on the day they were received,
evaluations on the day they were given (China dates). A deadline is *measured* once it is met or
has passed: on time when the step happened on or before its due day (the due days were computed
in working days when the case was opened, desk/sla.py with the holiday table). A demand cancelled
before a step is not measured for that step. A demand's domains come from its service ids (one
demand may count in two domains), its region from the place it names, its institution is the one
the enterprise chose. A complaint counts in the main domain and the region of the institution it
is about, when that institution is in the knowledge base.
"""

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from sqlalchemy import ColumnElement, Text, cast, select
from sqlalchemy.orm import Session

from desk.clock import CHINA
from desk.complaints.models import CLOSED_STATUSES, Complaint
from desk.demands.models import Demand, Evaluation
from desk.reports.regions import UNKNOWN_REGION, region_label, region_of
from desk.reports.schemas import (
    ComplaintSatisfaction,
    LevelRow,
    Rate,
    Satisfaction,
    ServiceLevelReport,
)
from knowledge.constants import DOMAIN_LABELS, REGIONS, service_domain

UNSPECIFIED = "unspecified"
CHINA_OFFSET = timedelta(hours=8)  # China keeps no daylight saving time since 1991
ZERO = timedelta(0)
SCORES = ("process", "efficiency", "attitude", "overall")


def month_key(day: date) -> str:
    return f"{day:%Y-%m}"


def month_label(day: date) -> str:
    return f"{day.year}年{day.month}月"


def months(start: date, end: date) -> list[date]:
    """First days of the months from ``start``'s to ``end``'s, inclusive."""
    result, current = [], start.replace(day=1)
    while current <= end:
        result.append(current)
        current = (current + timedelta(days=32)).replace(day=1)
    return result


def month_end(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def local_date(moment: datetime, *, naive_is_utc: bool) -> date:
    """The China date of a stored moment. SQLite returns naive values: the database's own
    ``now()`` defaults are UTC, values the app wrote are China time."""
    if moment.tzinfo is None:
        if not naive_is_utc:
            return moment.date()  # already China time
        moment = moment.replace(tzinfo=UTC)
    return (moment + CHINA_OFFSET).date() if moment.utcoffset() == ZERO else _china_date(moment)


def _china_date(moment: datetime) -> date:
    return moment.astimezone(CHINA).date()


@dataclass
class Tally:
    demands: int = 0
    responded: list[int] = field(default_factory=lambda: [0, 0])  # measured, on time
    recommended: list[int] = field(default_factory=lambda: [0, 0])
    complaints: int = 0
    investigated: list[int] = field(default_factory=lambda: [0, 0])
    # closed, satisfied, unsatisfied, unanswered (§7.4.3)
    answers: list[int] = field(default_factory=lambda: [0, 0, 0, 0])
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
            complaint_satisfaction=complaint_satisfaction(self.answers),
            satisfaction=satisfaction,
        )


def complaint_satisfaction(answers: list[int]) -> ComplaintSatisfaction:
    closed, satisfied, unsatisfied, unanswered = answers
    answered = satisfied + unsatisfied
    return ComplaintSatisfaction(
        closed=closed,
        satisfied=satisfied,
        unsatisfied=unsatisfied,
        unanswered=unanswered,
        rate=round(satisfied / answered, 4) if answered else None,
    )


def answer_of(*, status: str, satisfaction: str | None) -> tuple[int, int, int, int]:
    """One complaint's part of :class:`Tally.answers`."""
    closed = status in CLOSED_STATUSES
    return (
        int(closed),
        int(closed and satisfaction == "satisfied"),
        int(satisfaction == "unsatisfied"),
        int(closed and satisfaction is None),
    )


def outcome(*, done: datetime | None, due: date, cancelled: bool, today: date) -> tuple[int, int]:
    """(measured, on time) of one deadline: (1, 1) met, (1, 0) missed, (0, 0) not measured."""
    if done is not None:
        return 1, int(local_date(done, naive_is_utc=False) <= due)
    return (1, 0) if not cancelled and today > due else (0, 0)


def _add(pair: list[int], result: tuple[int, int]) -> None:
    pair[0] += result[0]
    pair[1] += result[1]


def demand_domains(demand: Demand) -> set[str]:
    return domains_of(demand.service_ids)


def domains_of(service_ids: Iterable[str] | None) -> set[str]:
    return {service_domain(s) for s in service_ids or ()} or {UNSPECIFIED}


@lru_cache(maxsize=4096)
def _domains_of_json(text: str | None) -> frozenset[str]:
    """The domains of a stored service-id list, parsed once per distinct value (a year of
    demands holds only a few hundred distinct lists)."""
    return frozenset(domains_of(json.loads(text) if text else ()))


def _service_ids_text() -> ColumnElement[str]:
    return cast(Demand.service_ids, Text).label("service_ids")


def window(start: date, end: date) -> tuple[datetime, datetime]:
    """A UTC window a day wider than the days, for the database to narrow rows by."""
    lower = datetime.combine(start - timedelta(days=1), time(), tzinfo=UTC)
    upper = datetime.combine(end + timedelta(days=2), time(), tzinfo=UTC)
    return lower, upper


@dataclass(frozen=True)
class InstitutionInfo:
    title: str
    domain: str | None  # the first domain of its capabilities
    region: str | None


@dataclass
class Levels:
    """The tallies of one period, turned into rows by :meth:`rows`."""

    start: date
    end: date
    today: date
    institutions: dict[str, InstitutionInfo]
    overall: Tally = field(default_factory=Tally)
    by_domain: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    by_region: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    by_institution: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    by_month: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))

    def tallies(
        self, day: date, domains: Iterable[str], region: str | None, institution: str | None
    ) -> list[Tally]:
        found = [self.overall, self.by_month[month_key(day)]]
        found += [self.by_domain[d] for d in domains]
        if region is not None:
            found.append(self.by_region[region])
        if institution:
            found.append(self.by_institution[institution])
        return found

    def domain_rows(self) -> list[LevelRow]:
        labels = DOMAIN_LABELS | {UNSPECIFIED: "未指定服务"}
        keys = [*DOMAIN_LABELS, *([UNSPECIFIED] if UNSPECIFIED in self.by_domain else [])]
        return [self.by_domain[k].row(k, labels[k]) for k in keys]

    def region_rows(self) -> list[LevelRow]:
        """Regions in the knowledge's order, those without anything left out; unknown last."""
        keys = [r for r in REGIONS if r in self.by_region]
        keys += [UNKNOWN_REGION] if UNKNOWN_REGION in self.by_region else []
        return [self.by_region[k].row(k, region_label(k)) for k in keys]

    def institution_rows(self) -> list[LevelRow]:
        return [
            self.by_institution[k].row(k, info.title if (info := self.institutions.get(k)) else k)
            for k in sorted(self.by_institution)
        ]

    def month_rows(self) -> list[LevelRow]:
        return [
            self.by_month[month_key(m)].row(month_key(m), month_label(m))
            for m in months(self.start, self.end)
        ]


def tally(
    session: Session,
    *,
    start: date,
    end: date,
    today: date,
    institutions: Mapping[str, InstitutionInfo] | None = None,
) -> Levels:
    """Count demands, complaints and evaluations of the days from ``start`` to ``end``."""
    info = dict(institutions) if institutions is not None else institution_infos()
    levels = Levels(start=start, end=end, today=today, institutions=info)
    lower, upper = window(start, end)

    demands = session.execute(
        select(
            Demand.created_at,
            Demand.status,
            _service_ids_text(),
            Demand.place,
            Demand.chosen_institution_id,
            Demand.responded_at,
            Demand.respond_due,
            Demand.recommended_at,
            Demand.recommend_due,
        ).where(Demand.created_at >= lower, Demand.created_at < upper)
    )
    for (
        created_at,
        status,
        services,
        place,
        chosen,
        responded,
        r_due,
        recommended,
        c_due,
    ) in demands:
        submitted = local_date(created_at, naive_is_utc=True)
        if not start <= submitted <= end:
            continue
        cancelled = status == "cancelled"
        respond = outcome(done=responded, due=r_due, cancelled=cancelled, today=today)
        recommend = outcome(done=recommended, due=c_due, cancelled=cancelled, today=today)
        for t in levels.tallies(submitted, _domains_of_json(services), region_of(place), chosen):
            t.demands += 1
            _add(t.responded, respond)
            _add(t.recommended, recommend)

    complaints = session.execute(
        select(
            Complaint.received_on,
            Complaint.institution_id,
            Complaint.institution_title,
            Complaint.resolved_at,
            Complaint.investigation_due,
            Complaint.status,
            Complaint.satisfaction,
        ).where(Complaint.received_on >= start, Complaint.received_on <= end)
    )
    for complaint in complaints:
        linked = info.get(complaint.institution_id) if complaint.institution_id else None
        if complaint.institution_id and linked is None and complaint.institution_title:
            info[complaint.institution_id] = InstitutionInfo(
                complaint.institution_title, None, None
            )
        domain = linked.domain if linked and linked.domain else UNSPECIFIED
        region = region_of(linked.region) if linked and linked.region else UNKNOWN_REGION
        investigated = outcome(
            done=complaint.resolved_at,
            due=complaint.investigation_due,
            cancelled=False,
            today=today,
        )
        answer = answer_of(status=complaint.status, satisfaction=complaint.satisfaction)
        for t in levels.tallies(complaint.received_on, (domain,), region, complaint.institution_id):
            t.complaints += 1
            _add(t.investigated, investigated)
            t.answers = [a + b for a, b in zip(t.answers, answer, strict=True)]

    evaluations = session.execute(
        select(
            Evaluation.created_at,
            Evaluation.process_score,
            Evaluation.efficiency_score,
            Evaluation.attitude_score,
            Evaluation.overall_score,
            _service_ids_text(),
            Demand.place,
            Demand.chosen_institution_id,
        )
        .join(Demand, Evaluation.demand_id == Demand.id)
        .where(Evaluation.created_at >= lower, Evaluation.created_at < upper)
    )
    for given_row in evaluations:
        given = local_date(given_row.created_at, naive_is_utc=True)
        if not start <= given <= end:
            continue
        scores = (
            given_row.process_score,
            given_row.efficiency_score,
            given_row.attitude_score,
            given_row.overall_score,
        )
        for t in levels.tallies(
            given,
            _domains_of_json(given_row.service_ids),
            region_of(given_row.place),
            given_row.chosen_institution_id,
        ):
            t.scores.append(scores)
    return levels


def service_levels(
    session: Session,
    *,
    start: date,
    end: date,
    today: date,
    institution_titles: Mapping[str, str] | None = None,
) -> ServiceLevelReport:
    """The report for the months from ``start`` to ``end`` (any day in them), inclusive."""
    institutions = (
        {k: InstitutionInfo(v, None, None) for k, v in institution_titles.items()}
        if institution_titles is not None
        else None
    )
    first, last = start.replace(day=1), month_end(end)
    levels = tally(session, start=first, end=last, today=today, institutions=institutions)
    return ServiceLevelReport(
        start=month_key(first),
        end=month_key(last),
        as_of=today,
        overall=levels.overall.row("all", "全部"),
        by_domain=levels.domain_rows(),
        by_region=levels.region_rows(),
        by_institution=levels.institution_rows(),
        by_month=levels.month_rows(),
    )


def institution_infos() -> dict[str, InstitutionInfo]:
    """Title, main domain and region of the knowledge base's institutions; none when it cannot
    be read."""
    from knowledge.store import KnowledgeError
    from retrieval.live import live_knowledge

    try:
        institutions = live_knowledge().institutions
    except KnowledgeError:
        return {}
    return {
        i.id: InstitutionInfo(i.title, i.domains[0] if i.domains else None, i.region)
        for i in institutions
    }


def institution_names() -> dict[str, str]:
    """Titles of the knowledge base's institutions; none when it cannot be read."""
    return {k: v.title for k, v in institution_infos().items()}
