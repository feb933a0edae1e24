"""Improvement items (整改事项, §8.1.3 and §8.2 b): what went wrong, why, what is done, by whom,
by when; re-checked (复查) and closed with evidence.

open → in_progress → rechecked → closed; a re-check that fails sends the item back to
in_progress. Every item comes from exactly one source (an evaluation or a complaint), held by
the unique ``source_key``, so a source never opens two items.
"""

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from desk.db import Base
from desk.timeline import TimelineStep

TRANSITIONS: dict[str, frozenset[str]] = {
    "open": frozenset({"in_progress"}),
    "in_progress": frozenset({"rechecked"}),
    "rechecked": frozenset({"closed", "in_progress"}),  # back when the re-check fails
    "closed": frozenset(),
}
STATUS_LABELS = {
    "open": "待整改",
    "in_progress": "整改中",
    "rechecked": "已复查",
    "closed": "已关闭",
}
ACTIVE_STATUSES = ("open", "in_progress", "rechecked")
SOURCE_LABELS = {"evaluation": "不满意评价", "complaint": "投诉成立"}


class ImprovementItem(Base):
    __tablename__ = "improvement_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)  # GJ20261201-0001
    source: Mapped[str] = mapped_column(String(12))  # evaluation | complaint
    source_key: Mapped[str] = mapped_column(String(40), unique=True)  # evaluation:12 …
    source_number: Mapped[str] = mapped_column(String(20), index=True)  # XQ… or TS…
    institution_id: Mapped[str | None] = mapped_column(String(60))
    domain: Mapped[str | None] = mapped_column(String(24))
    problem: Mapped[str] = mapped_column(Text)  # what the evaluation or complaint said
    cause: Mapped[str] = mapped_column(Text, default="")  # 原因分析
    action: Mapped[str] = mapped_column(Text, default="")  # 整改措施
    owner: Mapped[str | None] = mapped_column(String(40))  # username of the responsible person
    due_on: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    recheck_note: Mapped[str] = mapped_column(Text, default="")  # 复查结论
    evidence: Mapped[str] = mapped_column(Text, default="")  # 整改证据 (text)
    opened_on: Mapped[date] = mapped_column(Date, index=True)  # China date it was opened
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def conversation_id(self) -> str | None:  # desk.cases.Case: items belong to no conversation
        return None


class ImprovementEvent(TimelineStep, Base):
    """One step on an item's timeline."""

    __tablename__ = "improvement_events"
    status_length = 16

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("improvement_items.id", ondelete="CASCADE"), index=True
    )


class ImprovementFile(Base):
    """A file of evidence (photo, scan, PDF); the bytes lie under the upload folder."""

    __tablename__ = "improvement_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("improvement_items.id", ondelete="CASCADE"), index=True
    )
    media_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    original_name: Mapped[str] = mapped_column(String(120))
    storage_name: Mapped[str] = mapped_column(String(80), unique=True)
    uploaded_by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
