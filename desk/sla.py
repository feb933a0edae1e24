"""Service levels in Chinese working days (statutory holidays and 调休 weekends).

A deadline of ``n`` working days ends with the n-th working day after the day of submission.
"""

from datetime import date, timedelta

import chinese_calendar

from desk.errors import CalendarUnknown

RESPOND_WORKING_DAYS = 1  # §7.2.2.2.1: response within 1 working day
RECOMMEND_WORKING_DAYS = 3  # §7.2.2.2.1: recommendation within 3 working days
COMPLAINT_WORKING_DAYS = 7  # §7.4.3: investigation within 7 working days


def is_working_day(day: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError as exc:
        raise CalendarUnknown(f"{day.year} 年的法定节假日安排尚未录入，无法计算工作日。") from exc


def add_working_days(start: date, days: int) -> date:
    if days < 1:
        raise ValueError("days must be at least 1")
    current, counted = start, 0
    while counted < days:
        current += timedelta(days=1)
        if is_working_day(current):
            counted += 1
    return current
