"""Escalation payloads, one schema per direction."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from desk.timeline import TimelineStepPublic
from knowledge.constants import Domain

ReasonCode = Literal["requested", "fallback"]
StatusCode = Literal["waiting", "claimed", "closed"]
SUMMARY_MAX_CHARS = 4000


class EscalationCreate(BaseModel):
    conversation_id: str = Field(min_length=3, max_length=80)
    reason: ReasonCode = "requested"
    summary: str = Field(default="", max_length=SUMMARY_MAX_CHARS)
    channel: Literal["web", "wechat"] = "web"
    domain: Domain | None = None  # the need's QI domain, the retrieval match, or the bot's guess
    need: dict[str, str] | None = Field(default=None, max_length=10)  # product, place, urgency …
    enterprise: str | None = Field(default=None, max_length=100)

    @field_validator("need")
    @classmethod
    def _short_values(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if value is None:
            return None
        return {str(k)[:30]: str(v)[:200] for k, v in value.items() if v}

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
    expert_name: str | None = None
    domain: str | None = None
    domain_label: str | None = None
    enterprise: str | None = None
    offered_to: list[str] = Field(default_factory=list)
    waiting_minutes: int = 0  # until claimed (or now, while waiting)
    outcome: str | None = None
    outcome_label: str | None = None
    last_message_at: datetime | None = None
    notice: str | None = None  # what the enterprise was told while waiting (timers)
    notice_label: str | None = None


class EscalationCreated(EscalationPublic):
    """The create response: also whether an expert is on duty now, and if not, from when."""

    within_service_hours: bool
    next_service_start: datetime
    queue_position: int = 1
    experts_online: int = 0
    expected_wait_minutes: int = 0


class EscalationList(BaseModel):
    items: list[EscalationPublic]


class EscalationRelease(BaseModel):
    note: str = Field(default="", max_length=1000)


Outcome = Literal["answered", "demand_opened", "complaint_opened", "no_reply"]


class EscalationClose(BaseModel):
    outcome: Outcome
    note: str = Field(default="", max_length=1000)


class HandOver(BaseModel):
    """Assign (staff) or transfer (the holding expert) to a colleague, with a note."""

    expert: str = Field(min_length=1, max_length=40)
    note: str = Field(default="", max_length=500)


EscalationEventPublic = TimelineStepPublic
