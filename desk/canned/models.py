"""A canned reply: shared (kept by staff) or personal (one expert's own)."""

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from desk.db import Base

SCOPES = ("shared", "personal")


class CannedReply(Base):
    __tablename__ = "canned_replies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shortcut: Mapped[str] = mapped_column(String(32), index=True)
    title: Mapped[str] = mapped_column(String(60))
    text: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(String(10))
    owner: Mapped[str | None] = mapped_column(String(40))  # the expert, for a personal one
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
