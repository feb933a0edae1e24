from datetime import datetime
from typing import Any

from pydantic import BaseModel


class AuditEntryPublic(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    action_label: str
    subject: str
    details: dict[str, Any]


class AuditPage(BaseModel):
    items: list[AuditEntryPublic]
    total: int
    page: int
    page_size: int


class ActionOption(BaseModel):
    """An action code an admin can filter by (``auth.`` stands for every login action)."""

    value: str
    label: str


class FailedLogins(BaseModel):
    """How often logins fail under one name (``user:<name>`` or ``login:<name tried>``)."""

    subject: str
    failures: int
    last_at: datetime
    locked_until: datetime | None


class LoginFailureRate(BaseModel):
    """Failed logins of the last hour and day, and the names most tried."""

    last_hour: int
    last_day: int
    locked_now: int
    subjects: list[FailedLogins]
