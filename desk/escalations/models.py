"""Escalations (转人工): a conversation handed from the bot to a 质量门诊 expert (§5.3 a).

waiting → claimed (an expert takes the chat over) → closed (the expert hands it back); a waiting
one can also be closed (abandoned, or answered another way). While an escalation is waiting or
claimed the conversation belongs to people: the gateway keeps the bot quiet.
"""

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from desk.db import Base
from desk.timeline import TimelineStep

TRANSITIONS: dict[str, frozenset[str]] = {
    "waiting": frozenset({"claimed", "closed"}),
    "claimed": frozenset({"closed"}),  # a transfer to a colleague is a step, not a move
    "closed": frozenset(),
}
ACTIVE_STATUSES = ("waiting", "claimed")
STATUS_LABELS = {"waiting": "等待专家接入", "claimed": "专家接待中", "closed": "已交还智能助手"}
REASON_LABELS = {"requested": "用户要求转人工", "fallback": "连续未能理解"}
# what the timers told a waiting enterprise (desk/escalations/timers.py), as the console shows it
NOTICE_LABELS = {
    "out_of_hours": "已告知非工作时间",
    "offline": "已告知暂无专家在线",
    "timeout": "已告知等待超时",
    "idle": "因30分钟无消息结束",
}
OUTCOME_LABELS = {
    "answered": "已解答",
    "demand_opened": "已提交需求",
    "complaint_opened": "已受理投诉",
    "no_reply": "用户未回复",
    "timeout": "超时交还",
    "cancelled": "用户取消",
    "demand_by_bot": "转智能助手登记需求",  # nobody could take it; the user chose to leave a demand
}


class Escalation(Base):
    __tablename__ = "escalations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(80), index=True)
    # the conversation id while active, NULL once closed: a unique column that allows one active
    # escalation per conversation on every database (NULLs never collide)
    active_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="waiting", index=True)
    expert: Mapped[str | None] = mapped_column(String(40))  # username of the claiming expert
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    domain: Mapped[str | None] = mapped_column(String(24))  # the need's QI domain, if known
    enterprise: Mapped[str | None] = mapped_column(String(100))  # the company, if known
    # the bot's summary of the need: domain, product, place, urgency, masked contact
    need: Mapped[dict[str, str] | None] = mapped_column(JSON)
    offered_to: Mapped[list[str] | None] = mapped_column(JSON)  # experts notified first
    outcome: Mapped[str | None] = mapped_column(String(20))  # how the expert closed it
    notice: Mapped[str | None] = mapped_column(String(20))  # what the enterprise was last told


class EscalationEvent(TimelineStep, Base):
    """One step on an escalation's timeline."""

    __tablename__ = "escalation_events"
    status_length = 16

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    escalation_id: Mapped[int] = mapped_column(
        ForeignKey("escalations.id", ondelete="CASCADE"), index=True
    )
