"""The handoff's timer decisions, as pure functions of plain values."""

from datetime import datetime, timedelta

from desk.clock import CHINA
from desk.escalations.settings import ConsultationSettings
from desk.escalations.timers import is_idle, should_widen, waiting_notice
from desk.sla import WorkingCalendar

SETTINGS = ConsultationSettings()
CALENDAR = WorkingCalendar()
MONDAY = datetime(2025, 6, 16, 10, 0, tzinfo=CHINA)


def _notice(**changes: object) -> str | None:
    values: dict[str, object] = {
        "status": "waiting",
        "notice": None,
        "created_at": MONDAY,
        "moment": MONDAY + timedelta(seconds=30),
        "experts_online": 1,
        "calendar": CALENDAR,
        "settings": SETTINGS,
    }
    return waiting_notice(**(values | changes))  # type: ignore[arg-type]


def test_defaults() -> None:
    assert (SETTINGS.offer_widen_after_s, SETTINGS.claim_timeout_s, SETTINGS.idle_timeout_s) == (
        120,
        600,
        1800,
    )


def test_widen_only_a_waiting_offer_to_some_after_two_minutes() -> None:
    def widen(status: str, offered: list[str] | None, seconds: int) -> bool:
        return should_widen(
            status=status,
            offered_to=offered,
            created_at=MONDAY,
            moment=MONDAY + timedelta(seconds=seconds),
            settings=SETTINGS,
        )

    assert widen("waiting", ["a"], 120) and not widen("waiting", ["a"], 119)
    assert not widen("waiting", [], 500) and not widen("waiting", None, 500)
    assert not widen("claimed", ["a"], 500)


def test_what_a_waiting_enterprise_is_told() -> None:
    assert _notice() is None
    assert _notice(moment=MONDAY + timedelta(seconds=600)) == "timeout"
    assert _notice(experts_online=0) == "offline"
    evening = MONDAY.replace(hour=17, minute=5)
    assert _notice(created_at=evening, moment=evening + timedelta(seconds=20)) == "out_of_hours"
    sunday = datetime(2025, 6, 15, 10, 0, tzinfo=CHINA)
    assert _notice(created_at=sunday, moment=sunday, experts_online=0) == "out_of_hours"
    assert _notice(notice="offline", experts_online=0) is None  # said once
    assert _notice(status="claimed", experts_online=0) is None


def test_idle_counts_from_the_claim_or_the_last_message() -> None:
    def idle(last: datetime | None, minutes: int) -> bool:
        return is_idle(
            status="claimed",
            claimed_at=MONDAY,
            last_message_at=last,
            moment=MONDAY + timedelta(minutes=minutes),
            settings=SETTINGS,
        )

    assert idle(None, 30) and not idle(None, 29)
    assert not idle(MONDAY + timedelta(minutes=5), 34) and idle(MONDAY + timedelta(minutes=5), 35)
