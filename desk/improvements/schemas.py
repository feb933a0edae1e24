"""Improvement item payloads, one schema per direction."""

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from desk.timeline import TimelineStepPublic

StatusCode = Literal["open", "in_progress", "rechecked", "closed"]
SourceCode = Literal["evaluation", "complaint"]


class PlanUpdate(BaseModel):
    """The plan of the improvement: why it happened, what is done, who does it, by when."""

    cause: str | None = Field(default=None, max_length=2000)
    action: str | None = Field(default=None, max_length=2000)
    owner: str | None = Field(default=None, min_length=1, max_length=40)
    due_on: date | None = None


class ItemTransition(PlanUpdate):
    to: Literal["in_progress", "rechecked", "closed"]
    note: str = Field(default="", max_length=1000)
    recheck_note: str | None = Field(default=None, max_length=2000)  # for "rechecked"
    evidence: str | None = Field(default=None, max_length=4000)  # for "closed"


class ItemFile(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    media_type: str
    size: int
    original_name: str
    uploaded_by: str
    created_at: datetime


class ItemPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: str
    source: SourceCode
    source_label: str = ""
    source_number: str
    institution_id: str | None
    domain: str | None
    problem: str
    cause: str
    action: str
    owner: str | None
    owner_name: str | None = None
    due_on: date
    status: StatusCode
    status_label: str = ""
    recheck_note: str
    evidence: str
    opened_on: date
    created_at: datetime
    closed_at: datetime | None
    overdue: bool = False
    overdue_days: int = 0  # working days past the due day
    files: list[ItemFile] = []


class ItemList(BaseModel):
    items: list[ItemPublic]
    total: int
    counts: dict[str, int]  # per status, for the same filters but the status
    overdue: int


class ItemDetail(ItemPublic):
    timeline: list[TimelineStepPublic] = []


class OwnerOption(BaseModel):
    username: str
    display_name: str
