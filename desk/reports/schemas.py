"""Service-level report payloads (§7.3, §8.1)."""

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field


class Rate(BaseModel):
    """On-time share of the items whose deadline has passed or that are done (rate: 0–1)."""

    measured: int = 0
    on_time: int = 0
    rate: float | None = None  # None when nothing was measured yet


class Satisfaction(BaseModel):
    """Average scores (1–5) of the evaluations: 流程, 效率, 态度 and overall."""

    count: int = 0
    process: float | None = None
    efficiency: float | None = None
    attitude: float | None = None
    overall: float | None = None


class ComplaintSatisfaction(BaseModel):
    """What complainants answered to 「您对处理结果是否满意？」 (§7.4.3)."""

    closed: int = 0  # resolved or informed
    satisfied: int = 0  # closed, the complainant is satisfied with the outcome
    unsatisfied: int = 0  # the complainant was not: the complaint was handled again
    unanswered: int = 0  # closed, no answer yet
    rate: float | None = None  # satisfied / (satisfied + unsatisfied); None without an answer


class LevelRow(BaseModel):
    key: str
    label: str
    demands: int = 0
    responded: Rate = Rate()  # within 1 working day (§7.2.2.2.1)
    recommended: Rate = Rate()  # within 3 working days (§7.2.2.2.1)
    complaints: int = 0
    investigated: Rate = Rate()  # resolved within 7 working days (§7.4.3)
    complaint_satisfaction: ComplaintSatisfaction = ComplaintSatisfaction()
    satisfaction: Satisfaction = Satisfaction()


class ServiceLevelReport(BaseModel):
    start: str  # first month, YYYY-MM
    end: str  # last month, YYYY-MM (inclusive)
    as_of: date  # deadlines still running on this day are not measured yet
    overall: LevelRow
    by_domain: list[LevelRow]
    by_region: list[LevelRow] = []
    by_institution: list[LevelRow]
    by_month: list[LevelRow]


class EscalationRow(BaseModel):
    """Escalations opened in the period and how long the enterprises waited for an expert."""

    key: str
    label: str
    count: int = 0
    claimed: int = 0  # an expert took it over
    unclaimed: int = 0  # closed without an expert (after hours, abandoned, left a demand)
    waiting_now: int = 0  # still waiting
    median_wait_minutes: float | None = None
    p90_wait_minutes: float | None = None
    mean_wait_minutes: float | None = None


class EscalationStats(BaseModel):
    overall: EscalationRow
    by_month: list[EscalationRow]
    by_reason: list[EscalationRow]
    by_domain: list[EscalationRow]


class UnansweredCreate(BaseModel):
    """The bot reports one user message it could not answer (its Rasa message id: once)."""

    conversation_id: str = Field(min_length=3, max_length=80)
    message_id: str = Field(min_length=1, max_length=80)
    channel: Literal["web", "wechat"] = "web"
    kind: Literal["fallback", "faq_miss"]
    text: str = Field(min_length=1, max_length=1000)


class UnansweredRecorded(BaseModel):
    id: int
    normalised: str
    created: bool


class UnansweredGroup(BaseModel):
    key: str  # the normalised text
    text: str  # the most frequent wording
    count: int  # messages
    conversations: int  # distinct conversations that asked it
    kinds: list[str]  # 未能理解 / 知识库未找到答案, most frequent first
    variants: int  # distinct wordings
    first_at: datetime
    last_at: datetime


class ImprovementBrief(BaseModel):
    number: str
    source_label: str
    source_number: str
    problem: str
    owner_name: str | None
    due_on: date
    status_label: str
    overdue_days: int


class ImprovementSummary(BaseModel):
    counts: dict[str, int]  # per status, all items
    overdue: int  # not closed, past the due day
    opened_in_period: int
    closed_in_period: int
    attention: list[ImprovementBrief]  # overdue first, then the next due


class DashboardReport(BaseModel):
    start: date
    end: date
    as_of: date
    overall: LevelRow
    by_domain: list[LevelRow]
    by_region: list[LevelRow]
    by_institution: list[LevelRow]
    by_month: list[LevelRow]
    escalations: EscalationStats
    unanswered: list[UnansweredGroup]  # the most frequent (at most 20)
    unanswered_messages: int  # all unanswered messages of the period
    improvements: ImprovementSummary


class ImprovementRef(BaseModel):
    """What was done about a dissatisfied evaluation or an upheld complaint."""

    number: str
    status: str
    status_label: str
    cause: str
    action: str
    owner_name: str | None
    due_on: date
    recheck_note: str
    evidence: str
    closed_at: datetime | None
    overdue: bool


class DissatisfiedEvaluation(BaseModel):
    demand_number: str
    evaluated_on: date
    institution: str | None
    process: int
    efficiency: int
    attitude: int
    overall: int
    comment: str  # personal numbers masked
    improvement: ImprovementRef | None


class UpheldComplaint(BaseModel):
    complaint_number: str
    opened_on: date
    problem: str
    improvement: ImprovementRef


class ImprovementYear(BaseModel):
    opened: int
    closed: int
    closed_on_time: int  # closed on or before the due day
    still_open: int
    overdue: int  # still open past the due day


class AnnualSummary(BaseModel):
    """§8.1.3: the year's evaluation results summed up, the dissatisfied ones with what was done."""

    year: int
    as_of: date
    overall: LevelRow
    by_month: list[LevelRow]
    by_domain: list[LevelRow]
    by_region: list[LevelRow]
    by_institution: list[LevelRow]
    escalations: EscalationRow
    dissatisfied: list[DissatisfiedEvaluation]
    dissatisfied_share: float | None  # of the year's evaluations
    upheld_complaints: list[UpheldComplaint]
    improvements: ImprovementYear
    unanswered: list[UnansweredGroup]


class PublicPeriod(BaseModel):
    key: str  # 2025-Q1 or 2025-03
    label: str
    evaluations: int
    process: float | None
    efficiency: float | None
    attitude: float | None
    overall: float | None
    satisfied_rate: float | None  # share of evaluations without a score of 2 or less
    responded_rate: float | None
    recommended_rate: float | None
    complaints: int
    investigated_rate: float | None


class PublicInstitution(BaseModel):
    title: str
    evaluations: int
    process: float | None
    efficiency: float | None
    attitude: float | None
    overall: float | None


class PublicResults(BaseModel):
    """§8.1.1 定期公示: aggregates per period and per institution, nothing about anyone."""

    year: int
    as_of: date
    min_evaluations: int  # institutions with fewer evaluations are not listed
    periods: list[PublicPeriod]
    total: PublicPeriod
    institutions: list[PublicInstitution]
