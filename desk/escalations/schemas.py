"""Escalation payloads, one schema per direction."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from desk.timeline import TimelineStepPublic

ReasonCode = Literal["requested", "fallback"]
StatusCode = Literal["waiting", "claimed", "closed"]
SUMMARY_MAX_CHARS = 4000


class EscalationCreate(BaseModel):
    conversation_id: str = Field(min_length=3, max_length=80)
    reason: ReasonCode = "requested"
    summary: str = Field(default="", max_length=SUMMARY_MAX_CHARS)
    channel: Literal["web", "wechat"] = "web"

    @field_validator("summary")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()


class EscalationPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    conversation_id: str
    channel: str
    reason: str
    reason_label: str = ""
    summary: str
    status: str
    status_label: str = ""
    expert: str | None
    created_at: datetime
    claimed_at: datetime | None
    closed_at: datetime | None


class EscalationCreated(EscalationPublic):
    """The create response: also whether an expert is on duty now, and if not, from when."""

    within_service_hours: bool
    next_service_start: datetime


class EscalationList(BaseModel):
    items: list[EscalationPublic]


class EscalationRelease(BaseModel):
    note: str = Field(default="", max_length=1000)


EscalationEventPublic = TimelineStepPublic
