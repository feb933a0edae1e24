"""The platform's local time (China Standard Time)."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


def now() -> datetime:
    return datetime.now(CHINA)


def today() -> date:
    return now().date()


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; the times stored in UTC come back aware."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)
