"""Demands (需求, §7.2) opened by enterprises through the assistant or the desk."""

from datetime import date, datetime

from sqlalchemy import JSON, Date, DateTime, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from desk.db import Base


class Demand(Base):
    __tablename__ = "demands"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    conversation_id: Mapped[str] = mapped_column(String(80), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(20), default="submitted")
    need_text: Mapped[str] = mapped_column(Text)
    product: Mapped[str] = mapped_column(String(100))
    place: Mapped[str] = mapped_column(String(100))
    contact_name: Mapped[str] = mapped_column(String(40))
    contact_mobile: Mapped[str] = mapped_column(String(20))
    service_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    institution_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    recommended_by: Mapped[str] = mapped_column(String(20))
    idempotency_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    respond_due: Mapped[date] = mapped_column(Date)
    recommend_due: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
