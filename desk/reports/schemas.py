"""Service-level report payloads (§7.3, §8.1)."""

from datetime import date

from pydantic import BaseModel


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


class LevelRow(BaseModel):
    key: str
    label: str
    demands: int = 0
    responded: Rate = Rate()  # within 1 working day (§7.2.2.2.1)
    recommended: Rate = Rate()  # within 3 working days (§7.2.2.2.1)
    complaints: int = 0
    investigated: Rate = Rate()  # resolved within 7 working days (§7.4.3)
    satisfaction: Satisfaction = Satisfaction()


class ServiceLevelReport(BaseModel):
    start: str  # first month, YYYY-MM
    end: str  # last month, YYYY-MM (inclusive)
    as_of: date  # deadlines still running on this day are not measured yet
    overall: LevelRow
    by_domain: list[LevelRow]
    by_institution: list[LevelRow]
    by_month: list[LevelRow]
