from datetime import date

import pytest

from desk import sla
from desk.errors import CalendarUnknown


@pytest.mark.parametrize(
    ("submitted", "days", "due"),
    [
        (date(2026, 11, 23), 1, date(2026, 11, 24)),  # Monday → Tuesday
        (date(2026, 11, 23), 3, date(2026, 11, 26)),  # Monday → Thursday
        (date(2026, 11, 27), 1, date(2026, 11, 30)),  # Friday → next Monday
        (date(2026, 11, 28), 1, date(2026, 11, 30)),  # Saturday → Monday
        (date(2026, 9, 30), 1, date(2026, 10, 8)),  # National Day holiday Oct 1–7
    ],
)
def test_working_day_deadlines(submitted: date, days: int, due: date) -> None:
    assert sla.add_working_days(submitted, days) == due


def test_adjusted_weekend_counts_as_working_day() -> None:
    # 2026-10-10 (Saturday) is a 调休 working day after the National Day holiday.
    assert sla.is_working_day(date(2026, 10, 10))


def test_unknown_year_is_an_explicit_error() -> None:
    with pytest.raises(CalendarUnknown, match="尚未录入"):
        sla.add_working_days(date(2099, 12, 30), 1)
