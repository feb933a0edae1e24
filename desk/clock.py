"""The platform's local time (China Standard Time)."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


def now() -> datetime:
    return datetime.now(CHINA)


def today() -> date:
    return now().date()
