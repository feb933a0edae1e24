"""The timeline every desk record keeps (demands, complaints, escalations): one row per step.

A step says from which status to which, who took it, why, and when. Each record type has its
own table (its foreign key); the columns and the public shape are these, once.
"""

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict
from sqlalchemy import DateTime, String, Text, func
from sqlalchemy.orm import Mapped, declared_attr, mapped_column


class TimelineStep:
    """Columns of one step; a table sets ``status_length`` to the width of its status."""

    status_length: ClassVar[int] = 20

    @declared_attr
    def from_status(cls) -> Mapped[str | None]:
        return mapped_column(String(cls.status_length))

    @declared_attr
    def to_status(cls) -> Mapped[str]:
        return mapped_column(String(cls.status_length))

    actor: Mapped[str] = mapped_column(String(40))
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class TimelineStepPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    from_status: str | None
    to_status: str
    actor: str
    note: str
    at: datetime
    to_status_label: str = ""  # the status in words, e.g. 已响应


def public_steps(
    steps: Iterable[TimelineStep], labels: Mapping[str, str]
) -> list[TimelineStepPublic]:
    """The steps as the API shows them, each with its status in words."""
    return [
        TimelineStepPublic.model_validate(step).model_copy(
            update={"to_status_label": labels.get(step.to_status, step.to_status)}
        )
        for step in steps
    ]
