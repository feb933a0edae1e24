"""Service hours of people on the platform: experts and staff answer on working days 9:00–17:00.

The bot's reply names the hours (a domain response); the desk tells it whether someone is on duty
now and, if not, when duty starts again, from the same working calendar as the service levels.
"""

from datetime import datetime, time, timedelta

from desk.clock import CHINA
from desk.sla import WorkingCalendar

SERVICE_START = time(9, 0)
SERVICE_END = time(17, 0)
_LOOKAHEAD_DAYS = 40  # longer than any run of holidays (the Spring Festival is about ten days)


def within_service_hours(moment: datetime, calendar: WorkingCalendar) -> bool:
    local = moment.astimezone(CHINA)
    return calendar.is_working_day(local.date()) and SERVICE_START <= local.time() < SERVICE_END


def next_service_start(moment: datetime, calendar: WorkingCalendar) -> datetime:
    """``moment`` itself when on duty, else the start of the next service period."""
    if within_service_hours(moment, calendar):
        return moment
    local = moment.astimezone(CHINA)
    day = local.date() if local.time() < SERVICE_START else local.date() + timedelta(days=1)
    for _ in range(_LOOKAHEAD_DAYS):
        if calendar.is_working_day(day):
            return datetime.combine(day, SERVICE_START, tzinfo=CHINA)
        day += timedelta(days=1)
    raise ValueError("no working day within the look-ahead")  # pragma: no cover
