"""Customers (§7.1), their conversations, verification reviews and consents (PIPL)."""

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from desk.db import Base

KIND_LABELS = {"individual": "普通用户", "enterprise": "企业用户"}  # §7.1.1.1
VERIFICATION_LABELS = {
    "unverified": "未提交审核",
    "pending": "审核中",
    "approved": "已通过",
    "rejected": "未通过",
}
REVIEW_KIND_LABELS = {"registration": "注册审核", "name_change": "名称变更"}
REVIEW_STATUS_LABELS = {"pending": "待审核", "approved": "已通过", "rejected": "未通过"}
DOCUMENT_KIND_LABELS = {
    "business_licence": "营业执照",
    "qualification": "资质证书",
    "integrity_pledge": "诚信承诺书",
    "id_card": "身份证扫描件",
    "change_notice": "变更证明材料",  # 主管部门批文、变更通知书 (§7.1.1.6 b)
    "other": "其他材料",
}
# §7.1.1.3 (ID card scan) and §7.1.1.4 (licence, qualification, integrity pledge)
REQUIRED_DOCUMENTS = {
    "individual": ("id_card",),
    "enterprise": ("business_licence", "qualification", "integrity_pledge"),
}
NAME_CHANGE_DOCUMENTS = ("business_licence",)  # §7.1.1.6 a)


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))  # individual | enterprise
    name: Mapped[str] = mapped_column(String(100))  # person's or enterprise's name
    contact_name: Mapped[str | None] = mapped_column(String(40))
    mobile: Mapped[str | None] = mapped_column(String(20))
    id_number: Mapped[str | None] = mapped_column(String(18))  # individuals (居民身份证号码)
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)  # enterprises (USCC)
    verification: Mapped[str] = mapped_column(String(12), default="unverified")
    created_by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CustomerConversation(Base):
    """A chat conversation (wx:<openid>, web:<uuid>) of a customer; one customer has many."""

    __tablename__ = "customer_conversations"

    conversation_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    linked_by: Mapped[str] = mapped_column(String(40))
    linked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CustomerReview(Base):
    """A submission for review: the registration (§7.1.1.5) or a name change (§7.1.1.6)."""

    __tablename__ = "customer_reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(12))  # registration | name_change
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    submitted_on: Mapped[date] = mapped_column(Date)
    review_due: Mapped[date] = mapped_column(Date)  # 3 working days (§7.1.1.5)
    document_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    new_name: Mapped[str | None] = mapped_column(String(100))  # name changes
    changed_on: Mapped[date | None] = mapped_column(Date)  # the day the name changed
    submitted_by: Mapped[str] = mapped_column(String(40))
    reviewer: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(Text)  # required when rejected
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # the conversation that submitted it: the result is told there (§7.1.1.5 通知用户)
    conversation_id: Mapped[str | None] = mapped_column(String(80))
    # an enterprise without a qualification certificate says why (§7.1.1.4 b)
    qualification_note: Mapped[str | None] = mapped_column(Text)
    # a rejection names the materials to upload again (document kinds)
    missing_documents: Mapped[list[str] | None] = mapped_column(JSON)
    notice_how: Mapped[str | None] = mapped_column(String(20))  # web | wechat_message | …
    notice_reason: Mapped[str | None] = mapped_column(Text)  # why the applicant was not told


class Consent(Base):
    """A person's answer to the privacy notice in one conversation (PIPL); append-only."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(80), index=True)
    notice_version: Mapped[str] = mapped_column(String(20))
    agreed: Mapped[bool] = mapped_column(Boolean)
    actor: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
