"""Payloads of the knowledge API, one schema per direction."""

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

Kind = Literal["service", "institution", "station", "faq", "standard"]
Status = Literal["draft", "published", "withdrawn"]


class EntrySummary(BaseModel):
    id: str
    kind: Kind
    kind_label: str
    title: str
    status: Status
    status_label: str
    version: int
    owner: str
    review_due: date
    domain: str | None = None
    region: str | None = None
    sources: list[str] = Field(default_factory=list, description="codes of the cited standards")
    under_review: bool = Field(description="rests on a withdrawn standard: held back from users")
    pending: bool = Field(description="this version is not what users are served yet")
    updated_by: str
    updated_at: datetime | None


class EntryPage(BaseModel):
    items: list[EntrySummary]
    total: int
    offset: int
    limit: int
    pending: int = Field(description="entries in all whose changes are not published yet")


class EntryDetail(EntrySummary):
    payload: dict[str, Any] = Field(description="the entry as knowledge.schema validates it")


class EntryCreate(BaseModel):
    payload: dict[str, Any] = Field(description="the entry's fields, with its kind and id")


class EntryUpdate(BaseModel):
    payload: dict[str, Any]
    expected_version: int | None = Field(
        default=None, description="the version the form was loaded with (409 when outdated)"
    )


class StatusChange(BaseModel):
    status: Status
    note: str | None = Field(default=None, max_length=500)
    publish: bool = Field(default=True, description="start publishing the change right away")


class Restore(BaseModel):
    number: int = Field(ge=1)


class FieldChange(BaseModel):
    field: str
    label: str
    before: str
    after: str


class VersionPublic(BaseModel):
    number: int
    actor: str
    action: str
    note: str | None
    summary: str
    changes: list[FieldChange]
    created_at: datetime | None
    payload: dict[str, Any]


class HistoryPublic(BaseModel):
    entry_id: str
    items: list[VersionPublic]


class PublishRequest(BaseModel):
    entry_ids: list[str] | None = Field(
        default=None, max_length=5000, description="default: every pending entry"
    )


class PublishJobPublic(BaseModel):
    id: int
    actor: str
    status: Literal["queued", "running", "done", "failed"]
    status_label: str
    entry_ids: list[str]
    total: int
    done: int
    index_version: str | None
    error: str | None
    created_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None


class PublishJobList(BaseModel):
    items: list[PublishJobPublic]
    pending: list[str]


class Option(BaseModel):
    value: str
    label: str


class Vocabulary(BaseModel):
    """The fixed choices of an entry form (knowledge/constants.py is their source)."""

    domains: list[Option]
    institution_types: list[Option]
    station_types: list[Option]
    qualification_kinds: list[Option]
    service_modes: list[Option]
    validities: list[Option] = Field(description="a standard's status: 现行, 废止, 即将实施")
    services: list[Option] = Field(description="every service id, labelled with its entry's title")


class FaqAnswerCreate(BaseModel):
    """The bot answered one user message with a FAQ entry (its Rasa message id: once)."""

    conversation_id: str = Field(min_length=3, max_length=80)
    message_id: str = Field(min_length=1, max_length=80)
    channel: Literal["web", "wechat"] = "web"
    faq_id: str = Field(min_length=1, max_length=60)


class FaqAnswerRecorded(BaseModel):
    id: int
    created: bool


class PopularQuestion(BaseModel):
    faq_id: str
    question: str
    conversations: int = Field(description="distinct conversations it answered in the window")
    last_answered: datetime | None


class PopularQuestions(BaseModel):
    days: int
    items: list[PopularQuestion]
