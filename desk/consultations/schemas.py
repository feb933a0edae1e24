"""What the console shows of a consultation and what an expert sends, one schema per direction."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator

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
