"""Customer, review, document and consent payloads, one schema per direction."""

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from desk.customers.models import DOCUMENT_KIND_LABELS, KIND_LABELS
from knowledge.personal_data import normalise_credit_code, normalise_id_number, normalise_mobile

_KIND_ALIASES = {label: code for code, label in KIND_LABELS.items()} | {
    "个人": "individual",
    "个人用户": "individual",
    "普通": "individual",
    "企业": "enterprise",
    "单位": "enterprise",
}


def _kind(value: object) -> object:
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in KIND_LABELS:
            return text.lower()
        if text in _KIND_ALIASES:
            return _KIND_ALIASES[text]
    raise ValueError(f"用户类型应为：{'、'.join(KIND_LABELS.values())}")


CustomerKind = Annotated[Literal["individual", "enterprise"], BeforeValidator(_kind)]
DocumentKind = Literal[
    "business_licence", "qualification", "integrity_pledge", "id_card", "change_notice", "other"
]
DOCUMENT_KINDS: tuple[str, ...] = tuple(DOCUMENT_KIND_LABELS)


def _text(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("不能为空")
    return value


def _optional(value: str | None) -> str | None:
    return (value or "").strip() or None


Name = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_text)]


class CustomerCreate(BaseModel):
    kind: CustomerKind
    name: Name
    conversation_id: str | None = Field(default=None, min_length=3, max_length=80)
    contact_name: Annotated[str | None, Field(max_length=40), AfterValidator(_optional)] = None
    mobile: str | None = None
    id_number: str | None = Field(default=None, validate_default=True)
    credit_code: str | None = Field(default=None, validate_default=True)

    @field_validator("mobile")
    @classmethod
    def _mobile(cls, value: str | None) -> str | None:
        return normalise_mobile(text) if (text := _optional(value)) else None

    @field_validator("credit_code")
    @classmethod
    def _credit_code(cls, value: str | None, info: ValidationInfo) -> str | None:
        kind = info.data.get("kind")
        if not _optional(value):
            if kind == "enterprise":
                raise ValueError("企业用户须填写统一社会信用代码")
            return None
        if kind == "individual":
            raise ValueError("普通用户无需填写统一社会信用代码")
        return normalise_credit_code(str(value))

    @field_validator("id_number")
    @classmethod
    def _id_number(cls, value: str | None, info: ValidationInfo) -> str | None:
        if not _optional(value):
            return None
        if info.data.get("kind") == "enterprise":
            raise ValueError("企业用户无需填写身份证号码，请填写统一社会信用代码")
        return normalise_id_number(str(value))


class CustomerUpdate(BaseModel):
    """Contact details; an enterprise's name changes only through a name-change review."""

    name: Name | None = None
    contact_name: Annotated[str | None, Field(max_length=40), AfterValidator(_optional)] = None
    mobile: str | None = None  # an empty string clears it

    @field_validator("mobile")
    @classmethod
    def _mobile(cls, value: str | None) -> str | None:
        return normalise_mobile(text) if (text := _optional(value)) else None


class ConversationLink(BaseModel):
    conversation_id: str = Field(min_length=3, max_length=80)


class CustomerPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    kind_label: str = ""
    name: str
    contact_name: str | None
    mobile: str | None
    id_number: str | None
    credit_code: str | None
    verification: str
    verification_label: str = ""
    conversation_ids: list[str] = Field(default_factory=list)
    created_at: datetime


class CustomerList(BaseModel):
    items: list[CustomerPublic]


class ReviewSubmit(BaseModel):
    """Documents to review; when left out, the newest upload of each required kind."""

    document_ids: list[int] | None = Field(default=None, max_length=20)
    # an enterprise without a qualification certificate (§7.1.1.4 b) says why instead
    qualification_note: Annotated[str | None, Field(max_length=500), AfterValidator(_optional)] = (
        None
    )


class NameChangeCreate(ReviewSubmit):
    new_name: Name
    changed_on: date  # the day the name changed (§7.1.1.6: submit within 1 month)


class ReviewDecision(BaseModel):
    decision: Literal["approved", "rejected"]
    reason: str = Field(default="", max_length=1000)  # required when rejected
    # a rejection may name the materials to upload again; the applicant is asked for these
    missing_documents: list[DocumentKind] = Field(default_factory=list, max_length=6)


class DocumentUpdate(BaseModel):
    """What an uploaded file is: the bot labels a chat upload with the material it asked for."""

    kind: DocumentKind


class ReviewPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    customer_id: int
    kind: str
    kind_label: str = ""
    status: str
    status_label: str = ""
    submitted_on: date
    review_due: date
    overdue: bool = False
    document_ids: list[int]
    new_name: str | None
    changed_on: date | None
    submitted_by: str
    reviewer: str | None
    reason: str | None
    reviewed_at: datetime | None
    conversation_id: str | None = None
    qualification_note: str | None = None
    missing_documents: list[str] | None = None
    missing_labels: list[str] = Field(default_factory=list)
    notice_how: str | None = None
    notice_reason: str | None = None


class ReviewList(BaseModel):
    items: list[ReviewPublic]


class DocumentPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    customer_id: int
    kind: str
    kind_label: str = ""
    media_type: str
    size: int
    sha256: str
    original_name: str
    uploaded_by: str
    created_at: datetime


class ConsentCreate(BaseModel):
    conversation_id: str = Field(min_length=3, max_length=80)
    notice_version: str = Field(min_length=1, max_length=20)
    agreed: bool


class ConsentPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    conversation_id: str
    notice_version: str
    agreed: bool
    at: datetime
