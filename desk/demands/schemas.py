"""Demand payloads, one schema per direction."""

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from desk.boards import InstitutionPick, StatusCount
from desk.consultations.schemas import TranscriptLine
from desk.timeline import TimelineStepPublic
from knowledge.personal_data import normalise_credit_code, normalise_mobile

ServiceMode = Literal["送样", "上门", "预约", "均可"]


class DemandFields(BaseModel):
    """What a demand says, however it reached the platform (the bot and the staff alike)."""

    need_text: str = Field(min_length=1, max_length=2000)
    product: str = Field(min_length=1, max_length=100)
    place: str = Field(min_length=1, max_length=100)
    contact_name: str = Field(min_length=1, max_length=40)
    contact_mobile: str
    quantity: str | None = Field(default=None, max_length=50)
    wanted_date: str | None = Field(default=None, max_length=50)
    service_mode: ServiceMode | None = None
    company_name: str | None = Field(default=None, max_length=100)
    credit_code: str | None = None
    service_ids: list[str] = Field(default_factory=list, max_length=20)
    institution_ids: list[str] = Field(default_factory=list, max_length=20)
    chosen_institution_id: str | None = Field(default=None, max_length=60)

    @field_validator("contact_mobile")
    @classmethod
    def _mobile(cls, value: str) -> str:
        return normalise_mobile(value)

    @field_validator("credit_code")
    @classmethod
    def _credit_code(cls, value: str | None) -> str | None:
        return normalise_credit_code(value) if value and value.strip() else None

    @field_validator("quantity", "wanted_date", "company_name")
    @classmethod
    def _optional(cls, value: str | None) -> str | None:
        return (value or "").strip() or None

    @field_validator("need_text", "product", "place", "contact_name")
    @classmethod
    def _strip(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("不能为空")
        return value


class DemandCreate(DemandFields):
    """A demand the bot opens in a conversation."""

    conversation_id: str = Field(min_length=3, max_length=80)
    channel: Literal["web", "wechat", "desk"] = "web"
    recommended_by: Literal["bot", "staff"] = "bot"


StaffChannel = Literal["phone", "station", "letter"]


class StaffDemandCreate(DemandFields):
    """A demand staff enter from a call, a visit to a station or a letter (§7.2.2.1.1): the same
    checks as the bot's, no conversation behind it."""

    channel: StaffChannel
    recommended_by: Literal["staff"] = "staff"


class DemandPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    number: str
    conversation_id: str | None
    channel: str
    status: str
    need_text: str
    product: str
    place: str
    contact_name: str
    contact_mobile: str
    quantity: str | None = None
    wanted_date: str | None = None
    service_mode: str | None = None
    company_name: str | None = None
    credit_code: str | None = None
    service_ids: list[str]
    institution_ids: list[str]
    recommended_by: str
    chosen_institution_id: str | None = None
    respond_due: date
    recommend_due: date
    created_at: datetime
    status_label: str = ""
    respond_overdue: bool = False
    recommend_overdue: bool = False


class DemandList(BaseModel):
    items: list[DemandPublic]


DemandStatus = Literal[
    "responded", "recommended", "matched", "in_service", "completed", "cancelled"
]


class DemandTransition(BaseModel):
    to: DemandStatus
    note: str = Field(default="", max_length=1000)
    institution_ids: list[str] = Field(default_factory=list, max_length=20)  # for "recommended"
    chosen_institution_id: str | None = Field(default=None, max_length=60)  # for "matched"


DemandEventPublic = TimelineStepPublic


class EvaluationCreate(BaseModel):
    process_score: int = Field(ge=1, le=5)
    efficiency_score: int = Field(ge=1, le=5)
    attitude_score: int = Field(ge=1, le=5)
    overall_score: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=1000)


class EvaluationPublic(EvaluationCreate):
    model_config = ConfigDict(from_attributes=True)

    created_at: datetime


class DemandBoardRow(DemandPublic):
    """A demand as its board shows it: who handles it and how late it is."""

    channel_label: str = ""
    assignee: str | None = None
    assignee_name: str | None = None
    overdue: bool = False
    overdue_days: int | None = None  # working days past the earliest missed deadline


class DemandBoard(BaseModel):
    items: list[DemandBoardRow]
    total: int
    page: int
    size: int
    counts: list[StatusCount]  # per status, under every filter but the status


class ServicePick(BaseModel):
    id: str
    title: str


class DemandDetail(BaseModel):
    demand: DemandBoardRow
    timeline: list[TimelineStepPublic]
    services: list[ServicePick]
    institutions: list[InstitutionPick]  # recommended, with why each fits
    transcript: list[TranscriptLine]
    conversation_note: str | None = None  # why there is no transcript
    next_moves: list[StatusCount] = Field(default_factory=list)  # where staff may move it
    people: dict[str, str] = Field(default_factory=dict)  # username → name, for the timeline


class Assignment(BaseModel):
    assignee: str | None = Field(default=None, max_length=40)  # None: nobody
    note: str = Field(default="", max_length=500)
