"""Metadata of an uploaded file; the bytes lie under the upload folder, outside the web root."""

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from desk.db import Base


class Document(Base):
    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(24))  # business_licence, qualification, …
    media_type: Mapped[str] = mapped_column(String(40))  # sniffed from the content
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    original_name: Mapped[str] = mapped_column(String(120))  # sanitised, for display only
    storage_name: Mapped[str] = mapped_column(String(80), unique=True)  # random, relative
    uploaded_by: Mapped[str] = mapped_column(String(40))
    # a chat upload's own key (the page's message id, WeChat's MsgId): stored once, however often
    # the same upload arrives
    source_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
