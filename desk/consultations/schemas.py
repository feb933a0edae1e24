"""What the console shows of a consultation and what an expert sends, one schema per direction."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from desk.escalations.schemas import EscalationPublic

Sender = Literal["user", "bot", "expert", "system", "note"]
DeliveryState = Literal["sent", "queued", "failed", "pending"]
SendMode = Literal["send", "queue", "template"]
REPLY_MAX_CHARS = 600  # one WeChat customer-service text stays well inside 2048 bytes


class Delivery(BaseModel):
    state: DeliveryState
    mode: SendMode = "send"
    errcode: int | None = None
    errmsg: str | None = None


class TranscriptLine(BaseModel):
    id: int
    sender: Sender
    text: str
    created_at: datetime
    channel: str = ""
    author: str | None = None
    author_name: str | None = None
    delivery: Delivery | None = None
    buttons: list[dict[str, str]] = Field(default_factory=list)


class Window(BaseModel):
    """Whether free text can reach the enterprise now, and if not, why (in Chinese)."""

    channel: str
    free_text: bool
    reason: str | None = None
    remaining: int | None = None  # customer-service messages left in the window (WeChat)
    until: datetime | None = None  # when the window closes (WeChat)
    template_available: bool = False


class ReplyIn(BaseModel):
    text: str = Field(min_length=1, max_length=REPLY_MAX_CHARS)
    mode: SendMode = "send"
    client_id: str = Field(pattern=r"^[A-Za-z0-9_-]{6,64}$", description="the console's id")

    @field_validator("text")
    @classmethod
    def _strip(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("回复内容不能为空。")
        return value


class NoteIn(BaseModel):
    text: str = Field(min_length=1, max_length=2000)

    @field_validator("text")
    @classmethod
    def _strip(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("备注内容不能为空。")
        return value


class NeedSummary(BaseModel):
    domain: str | None = None
    product: str | None = None
    place: str | None = None
    urgency: str | None = None
    contact_masked: str | None = None
    text: str | None = None


class CustomerCard(BaseModel):
    id: int
    name: str
    kind: str
    credit_code_masked: str | None
    verification: str
    verification_label: str
    consent: bool


class DemandCard(BaseModel):
    number: str
    status: str
    status_label: str
    service_title: str | None
    respond_by: str | None
    recommend_by: str | None
    overdue: bool


class ComplaintCard(BaseModel):
    number: str
    status: str
    status_label: str
    institution: str | None
    deadline: str | None
    overdue: bool


class Suggestion(BaseModel):
    id: str
    kind: str
    title: str
    text: str
    score: float


class Suggestions(BaseModel):
    query: str
    results: list[Suggestion]


class KnowledgeDraftIn(BaseModel):
    question: str = Field(min_length=2, max_length=500)
    answer: str = Field(min_length=2, max_length=4000)


class KnowledgeDraftPublic(BaseModel):
    id: int
    status: str
    question: str
    answer: str
    domain: str | None


class ConsultationView(BaseModel):
    escalation: EscalationPublic
    transcript: list[TranscriptLine]
    need_summary: NeedSummary | None
    customer: CustomerCard | None
    demands: list[DemandCard]
    complaints: list[ComplaintCard]
    window: Window


class DemandDraft(BaseModel):
    """A demand as the expert edits it; the contact may stay masked (the desk fills it in from the
    enterprise's record, so the expert never needs the full number)."""

    need_text: str = Field(default="", max_length=2000)
    product: str = Field(default="", max_length=100)
    place: str = Field(default="", max_length=100)
    contact_name: str = Field(default="", max_length=40)
    contact_mobile: str = Field(default="", max_length=20)
    quantity: str | None = Field(default=None, max_length=50)
    wanted_date: str | None = Field(default=None, max_length=50)
    service_mode: Literal["送样", "上门", "预约", "均可"] | None = None
    company_name: str | None = Field(default=None, max_length=100)
    credit_code: str | None = Field(default=None, max_length=20)
    service_ids: list[str] = Field(default_factory=list, max_length=20)
