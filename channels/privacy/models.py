"""The state of the scheduled jobs: one row per job, leased by one process at a time."""

from datetime import datetime

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from desk.db import Base


class JobRun(Base):
    """A periodic job shared by every replica: the lease says who runs it now (a conditional
    UPDATE takes it), ``last_run_at`` when it last finished, ``watermark`` how far its data is
    done (the retention purge: every row before it has been purged)."""

    __tablename__ = "job_runs"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(80), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_run_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    watermark: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
