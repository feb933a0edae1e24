"""Demands (需求, §7.2) opened by enterprises through the assistant or the desk."""

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    ColumnElement,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from desk.db import Base
from desk.timeline import TimelineStep

# submitted → responded → recommended → matched → in_service → completed → evaluated; or cancelled
TRANSITIONS: dict[str, frozenset[str]] = {
    "submitted": frozenset({"responded", "cancelled"}),
    "responded": frozenset({"recommended", "cancelled"}),
    "recommended": frozenset({"matched", "cancelled"}),
    "matched": frozenset({"in_service", "cancelled"}),
    "in_service": frozenset({"completed", "cancelled"}),
    "completed": frozenset({"evaluated"}),
    "evaluated": frozenset(),
    "cancelled": frozenset(),
}
STATUS_LABELS = {
    "submitted": "已提交",
    "responded": "已响应",
    "recommended": "已推荐",
    "matched": "已对接",
    "in_service": "服务中",
    "completed": "已完成",
    "evaluated": "已评价",
    "cancelled": "已取消",
}

# how the demand reached the platform; staff enter phone, station and letter (§7.2.2.1.1)
CHANNEL_LABELS = {
    "web": "网页会话",
    "wechat": "微信公众号",
    "desk": "工作台",
    "phone": "电话",
    "station": "服务站点",
    "letter": "信件",
}


class Demand(Base):
    __tablename__ = "demands"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    # None: entered by staff from a call, a visit or a letter (no conversation behind it)
    conversation_id: Mapped[str | None] = mapped_column(String(80), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(20), default="submitted", index=True)
    assignee: Mapped[str | None] = mapped_column(String(40), index=True)  # staff username
    need_text: Mapped[str] = mapped_column(Text)
    product: Mapped[str] = mapped_column(String(100))
    place: Mapped[str] = mapped_column(String(100))
    contact_name: Mapped[str] = mapped_column(String(40))
    contact_mobile: Mapped[str] = mapped_column(String(20))
    # details of §7.2.1 the enterprise may give; free text as the person said it
    quantity: Mapped[str | None] = mapped_column(String(50))
    wanted_date: Mapped[str | None] = mapped_column(String(50))
    service_mode: Mapped[str | None] = mapped_column(String(10))
    company_name: Mapped[str | None] = mapped_column(String(100))
    credit_code: Mapped[str | None] = mapped_column(String(18))
    service_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    institution_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    recommended_by: Mapped[str] = mapped_column(String(20))
    chosen_institution_id: Mapped[str | None] = mapped_column(String(60))
    idempotency_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    respond_due: Mapped[date] = mapped_column(Date)
    recommend_due: Mapped[date] = mapped_column(Date)
    responded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    recommended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class DemandEvent(TimelineStep, Base):
    """One step on a demand's timeline."""

    __tablename__ = "demand_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    demand_id: Mapped[int] = mapped_column(ForeignKey("demands.id", ondelete="CASCADE"), index=True)


class Evaluation(Base):
    """The enterprise's evaluation after a service ends (§7.3, §8.1: 流程, 效率, 态度)."""

    __tablename__ = "evaluations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    demand_id: Mapped[int] = mapped_column(
        ForeignKey("demands.id", ondelete="CASCADE"), unique=True
    )
    process_score: Mapped[int] = mapped_column(Integer)
    efficiency_score: Mapped[int] = mapped_column(Integer)
    attitude_score: Mapped[int] = mapped_column(Integer)
    overall_score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


def overdue_clause(today: date) -> ColumnElement[bool]:
    """Not responded after 1 working day, or not recommended after 3 (§7.2.2.2.1)."""
    return ((Demand.status == "submitted") & (Demand.respond_due < today)) | (
        Demand.status.in_(["submitted", "responded"]) & (Demand.recommend_due < today)
    )
