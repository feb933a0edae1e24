"""Complaints (投诉, §7.4) about technical institutions, taken by the assistant or by staff."""

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from desk.db import Base
from desk.timeline import TimelineStep

# §7.4.3: investigate → forward to the institution → handled → tell the complainant
TRANSITIONS: dict[str, frozenset[str]] = {
    "received": frozenset({"investigating"}),
    "investigating": frozenset({"forwarded"}),
    "forwarded": frozenset({"resolved"}),
    "resolved": frozenset({"informed"}),
    "informed": frozenset(),
}
STATUS_LABELS = {
    "received": "已受理",
    "investigating": "调查核实中",
    "forwarded": "已转交机构处理",
    "resolved": "已处理完毕",
    "informed": "已反馈投诉人",
}
OPEN_STATUSES = ("received", "investigating", "forwarded")  # not yet resolved
CLOSED_STATUSES = ("resolved", "informed")  # handled: the complainant is asked if satisfied
# §7.4.3 the complainant's answer to 「您对处理结果是否满意？」 about the latest outcome;
# unsatisfied reopens the complaint; a closed complaint without one is not answered (未答复)
SATISFACTION_LABELS = {"satisfied": "满意", "unsatisfied": "不满意"}
UNANSWERED, UNANSWERED_LABEL = "unanswered", "未答复"
# §7.4.2: 电话、网上、服务站点和信件
CHANNEL_LABELS = {"phone": "电话", "online": "网上", "station": "服务站点", "letter": "信件"}
TYPE_LABELS = {
    "attitude": "服务态度",
    "efficiency": "服务效率",
    "fees": "收费",
    "quality": "质量/结果",
    "other": "其他",
}


class Complaint(Base):
    __tablename__ = "complaints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)  # 投诉受理编号 TS20261123-0001
    conversation_id: Mapped[str | None] = mapped_column(String(80), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    institution_name: Mapped[str] = mapped_column(String(100))  # 被投诉技术机构, as given
    institution_id: Mapped[str | None] = mapped_column(String(60), index=True)
    institution_title: Mapped[str | None] = mapped_column(String(100))  # title when linked
    complaint_type: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)  # 投诉内容
    demand: Mapped[str] = mapped_column(Text, default="")  # 投诉人提出的要求
    contact_name: Mapped[str | None] = mapped_column(String(40))
    contact_mobile: Mapped[str | None] = mapped_column(String(20))
    follow_up_code_hash: Mapped[str | None] = mapped_column(String(64))  # sha256, anonymous only
    status: Mapped[str] = mapped_column(String(20), default="received", index=True)
    assignee: Mapped[str | None] = mapped_column(String(40), index=True)  # staff username
    received_on: Mapped[date] = mapped_column(Date)
    investigation_due: Mapped[date] = mapped_column(Date)
    resolution: Mapped[str | None] = mapped_column(Text)  # 处理意见
    idempotency_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    forwarded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    informed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    satisfaction: Mapped[str | None] = mapped_column(String(12), index=True)  # see above
    satisfaction_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


def satisfaction_label(complaint: Complaint) -> str | None:
    """满意 / 不满意 / 未答复 (closed, not answered); None while the complaint is open."""
    if complaint.satisfaction:
        return SATISFACTION_LABELS[complaint.satisfaction]
    return UNANSWERED_LABEL if complaint.status in CLOSED_STATUSES else None


def is_overdue(complaint: Complaint, *, today: date) -> bool:
    """§7.4.3: not yet resolved after the 7 working days."""
    return complaint.status in OPEN_STATUSES and today > complaint.investigation_due


class ComplaintEvent(TimelineStep, Base):
    """One step on a complaint's timeline."""

    __tablename__ = "complaint_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(
        ForeignKey("complaints.id", ondelete="CASCADE"), index=True
    )
