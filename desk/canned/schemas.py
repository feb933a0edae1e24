"""Canned reply payloads, one schema per direction."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Scope = Literal["shared", "personal"]


class CannedReplyCreate(BaseModel):
    shortcut: str = Field(
        min_length=1,
        max_length=32,
        pattern=r"^[\w\u4e00-\u9fff-]+$",
        description="the keyword typed after / (letters, digits, Chinese, - and _)",
    )
    title: str = Field(min_length=1, max_length=60)
    text: str = Field(min_length=1, max_length=600)
    scope: Scope = "personal"


class CannedReplyPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    shortcut: str
    title: str
    text: str
    scope: Scope
    owner: str | None


class CannedReplyList(BaseModel):
    items: list[CannedReplyPublic]
