"""Complaint payloads, one schema per direction."""

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from desk.boards import InstitutionPick, StatusCount
from desk.complaints.models import CHANNEL_LABELS, TYPE_LABELS
from desk.consultations.schemas import TranscriptLine
from desk.timeline import TimelineStepPublic
from knowledge.personal_data import normalise_mobile

ChannelCode = Literal["phone", "online", "station", "letter"]
TypeCode = Literal["attitude", "efficiency", "fees", "quality", "other"]
StatusCode = Literal["received", "investigating", "forwarded", "resolved", "informed"]

_CHANNEL_ALIASES = {label: code for code, label in CHANNEL_LABELS.items()} | {
    "网站": "online",
    "网上投诉": "online",
    "微信": "online",
    "站点": "station",
    "来信": "letter",
}
_TYPE_ALIASES = {label: code for code, label in TYPE_LABELS.items()} | {
    "态度": "attitude",
    "效率": "efficiency",
    "收费问题": "fees",
    "费用": "fees",
    "质量": "quality",
    "结果": "quality",
    "检测结果": "quality",
    "质量问题": "quality",
}


def _code(aliases: dict[str, str], codes: dict[str, str], what: str):  # type: ignore[no-untyped-def]
    """Accept the English code or its Chinese label; refuse anything else in Chinese."""

    def parse(value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if text.lower() in codes:
                return text.lower()
            if text in aliases:
                return aliases[text]
        raise ValueError(f"{what}应为：{'、'.join(codes.values())}")

    return BeforeValidator(parse)


Channel = Annotated[ChannelCode, _code(_CHANNEL_ALIASES, CHANNEL_LABELS, "投诉渠道")]
ComplaintType = Annotated[TypeCode, _code(_TYPE_ALIASES, TYPE_LABELS, "投诉类型")]


class ComplaintCreate(BaseModel):
    conversation_id: str | None = Field(default=None, min_length=3, max_length=80)
    channel: Channel = "online"
    institution_name: str = Field(min_length=1, max_length=100)
    complaint_type: ComplaintType
    content: str = Field(min_length=1, max_length=2000)
    demand: str = Field(default="", max_length=1000)
    contact_name: str | None = Field(default=None, max_length=40)
    contact_mobile: str | None = None
    received_on: date | None = None  # letters and calls entered later by staff; default today

    @field_validator("institution_name", "content")
    @classmethod
    def _required_text(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("不能为空")
        return value

    @field_validator("demand")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()

    @field_validator("contact_name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return (value or "").strip() or None

    @field_validator("contact_mobile")
    @classmethod
    def _mobile(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        return normalise_mobile(value)


class ComplaintPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: str
    conversation_id: str | None
    channel: str
    channel_label: str = ""
    institution_name: str
    institution_id: str | None
    institution_title: str | None
    complaint_type: str
    complaint_type_label: str = ""
    content: str
    demand: str
    contact_name: str | None
    contact_mobile: str | None
    status: str
    status_label: str = ""
    received_on: date
    investigation_due: date
    overdue: bool = False
    resolution: str | None
    created_at: datetime
    forwarded_at: datetime | None
    resolved_at: datetime | None
    informed_at: datetime | None
    # §7.4.3 the complainant's answer about the latest outcome: satisfied | unsatisfied | None
    satisfaction: str | None = None
    satisfaction_label: str | None = None  # 满意 / 不满意 / 未答复 (closed); None while open
    satisfaction_at: datetime | None = None


class ComplaintCreated(ComplaintPublic):
    """The create response: the only place an anonymous complainant's follow-up code appears."""

    follow_up_code: str | None = None


class ComplaintList(BaseModel):
    items: list[ComplaintPublic]


MoveTo = Literal["investigating", "forwarded", "resolved", "informed"]  # what staff move it to


class ComplaintTransition(BaseModel):
    to: MoveTo
    note: str = Field(default="", max_length=1000)
    resolution: str | None = Field(default=None, max_length=2000)  # required for "resolved"
    institution_id: str | None = Field(default=None, max_length=60)  # for "forwarded": link/fix
    upheld: bool = False  # for "resolved": found justified (投诉成立): opens an improvement item


class ComplaintReopen(BaseModel):
    """The complainant is not satisfied with the outcome (§8.2): why, in their words."""

    reason: str = Field(min_length=1, max_length=500)
    conversation_id: str | None = Field(default=None, max_length=80)  # the bot: the complaint's


class ComplaintSatisfied(BaseModel):
    """The complainant is satisfied with the outcome (§7.4.3)."""

    conversation_id: str | None = Field(default=None, max_length=80)  # the bot: the complaint's


ComplaintEventPublic = TimelineStepPublic


class FollowUpQuery(BaseModel):
    number: str = Field(min_length=1, max_length=20)
    follow_up_code: str = Field(min_length=1, max_length=20)


class FollowUpPublic(BaseModel):
    """What an anonymous complainant learns with the number and the follow-up code."""

    number: str
    status: str
    status_label: str
    complaint_type_label: str
    institution_name: str
    received_on: date
    investigation_due: date
    overdue: bool
    resolution: str | None


class ComplaintBoardRow(ComplaintPublic):
    """A complaint as its board shows it: who handles it and how late it is."""

    assignee: str | None = None
    assignee_name: str | None = None
    overdue_days: int | None = None  # working days past the 7-day investigation deadline


class ComplaintBoard(BaseModel):
    items: list[ComplaintBoardRow]
    total: int
    page: int
    size: int
    counts: list[StatusCount]


class ComplaintDetail(BaseModel):
    complaint: ComplaintBoardRow
    timeline: list[TimelineStepPublic]
    institution: InstitutionPick | None  # the institution complained about, when linked
    transcript: list[TranscriptLine]
    conversation_note: str | None = None
    next_moves: list[StatusCount] = Field(default_factory=list)  # where staff may move it
    people: dict[str, str] = Field(default_factory=dict)  # username → name, for the timeline
