"""Escalations (转人工, §5.3 a) of a period and how long enterprises waited for an expert.

An escalation counts on the China day it was opened. Its wait is from opening to the claim; one
closed without a claim (abandoned, after hours, answered another way) has no wait and counts as
unclaimed; one still waiting is counted apart.
"""

from collections import defaultdict
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from desk.clock import as_utc
from desk.escalations.models import REASON_LABELS, Escalation
from desk.reports.schemas import EscalationRow, EscalationStats
from desk.reports.service import local_date, month_key, month_label, months, window
from knowledge.constants import DOMAIN_LABELS

NO_DOMAIN = "unspecified"


def _percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile of sorted ``values`` (None when empty)."""
    if not values:
        return None
    rank = max(1, -(-len(values) * share // 1))  # ceil
    return round(values[int(rank) - 1], 1)


class _Bucket:
    def __init__(self) -> None:
        self.count = 0
        self.claimed = 0
        self.unclaimed = 0
        self.waiting_now = 0
        self.waits: list[float] = []  # minutes

    def row(self, key: str, label: str) -> EscalationRow:
        waits = sorted(self.waits)
        return EscalationRow(
            key=key,
            label=label,
            count=self.count,
            claimed=self.claimed,
            unclaimed=self.unclaimed,
            waiting_now=self.waiting_now,
            median_wait_minutes=_percentile(waits, 0.5),
            p90_wait_minutes=_percentile(waits, 0.9),
            mean_wait_minutes=round(sum(waits) / len(waits), 1) if waits else None,
        )


def escalation_stats(session: Session, *, start: date, end: date) -> EscalationStats:
    lower, upper = window(start, end)
    overall = _Bucket()
    by_month: dict[str, _Bucket] = defaultdict(_Bucket)
    by_reason: dict[str, _Bucket] = defaultdict(_Bucket)
    by_domain: dict[str, _Bucket] = defaultdict(_Bucket)
    rows = session.execute(
        select(
            Escalation.created_at,
            Escalation.claimed_at,
            Escalation.status,
            Escalation.reason,
            Escalation.domain,
        ).where(Escalation.created_at >= lower, Escalation.created_at < upper)
    )
    for row in rows:
        opened = as_utc(row.created_at)
        assert opened is not None
        day = local_date(opened, naive_is_utc=True)
        if not start <= day <= end:
            continue
        claimed = as_utc(row.claimed_at)
        for bucket in (
            overall,
            by_month[month_key(day)],
            by_reason[row.reason],
            by_domain[row.domain or NO_DOMAIN],
        ):
            bucket.count += 1
            if claimed is not None:
                bucket.claimed += 1
                bucket.waits.append(max(0.0, (claimed - opened).total_seconds() / 60))
            elif row.status == "waiting":
                bucket.waiting_now += 1
            else:
                bucket.unclaimed += 1
    domain_labels = DOMAIN_LABELS | {NO_DOMAIN: "未识别领域"}
    return EscalationStats(
        overall=overall.row("all", "全部"),
        by_month=[
            by_month[month_key(m)].row(month_key(m), month_label(m)) for m in months(start, end)
        ],
        by_reason=[
            by_reason[k].row(k, REASON_LABELS.get(k, k))
            for k in [*REASON_LABELS, *sorted(set(by_reason) - set(REASON_LABELS))]
            if k in by_reason
        ],
        by_domain=[
            by_domain[k].row(k, domain_labels.get(k, k))
            for k in [*domain_labels, *sorted(set(by_domain) - set(domain_labels))]
            if k in by_domain
        ],
    )
