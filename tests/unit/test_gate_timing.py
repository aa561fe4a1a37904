"""Windows in local time and the zones of a recipient: the building blocks of the time rules."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from baton.delivery.timing import (
    DailyWindow,
    WeeklyWindow,
    intersect,
    is_open,
    next_opening,
    open_intervals,
)
from baton.delivery.zones import number_country, recipient_zones

NEW_YORK = ZoneInfo("America/New_York")


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def test_a_window_that_starts_in_the_skipped_hour_opens_when_that_hour_is_over() -> None:
    # 8 March 2026, New York: 02:00-03:00 does not exist. A window from 02:30 opens at 03:30
    # EDT, never earlier than any reading of 02:30.
    window = DailyWindow.between("02:30", "04:00")

    intervals = open_intervals(window, NEW_YORK, utc(3, 8, 12))

    assert (utc(3, 8, 7, 30), utc(3, 8, 8)) in intervals


def test_a_window_that_ends_in_the_repeated_hour_ends_at_its_first_occurrence() -> None:
    # 1 November 2026, New York: 01:00-02:00 happens twice. A window ending at 01:30 ends the
    # first time it is 01:30 (EDT), so it never grows by the repeated hour.
    window = DailyWindow.between("00:00", "01:30")

    intervals = open_intervals(window, NEW_YORK, utc(11, 1, 12))

    assert (utc(11, 1, 4), utc(11, 1, 5, 30)) in intervals


def test_intersect_keeps_only_the_moments_in_both() -> None:
    first = [(utc(5, 1, 8), utc(5, 1, 12)), (utc(5, 1, 14), utc(5, 1, 18))]
    second = [(utc(5, 1, 10), utc(5, 1, 15))]

    assert intersect(first, second) == [(utc(5, 1, 10), utc(5, 1, 12)), (utc(5, 1, 14), utc(5, 1, 15))]


def test_is_open_is_start_inclusive_end_exclusive_and_next_opening_is_the_next_start() -> None:
    intervals = [(utc(5, 1, 8), utc(5, 1, 12)), (utc(5, 2, 8), utc(5, 2, 12))]

    assert is_open(intervals, utc(5, 1, 8))
    assert not is_open(intervals, utc(5, 1, 12))
    assert next_opening(intervals, utc(5, 1, 12)) == utc(5, 2, 8)
    assert next_opening(intervals, utc(5, 3, 12)) is None


def test_weekly_window_days_ranges_and_holidays() -> None:
    week = WeeklyWindow.parse({"mon-fri": "09:00-21:00", "sat": "10:00-16:00"}, ["12-25", "2026-04-03"])

    assert week.on(date(2026, 5, 4)) == DailyWindow.parse("09:00-21:00")  # Monday
    assert week.on(date(2026, 5, 9)) == DailyWindow.parse("10:00-16:00")  # Saturday
    assert week.on(date(2026, 5, 10)) is None  # Sunday
    assert week.on(date(2027, 12, 25)) is None  # every year
    assert week.on(date(2026, 4, 3)) is None  # Good Friday 2026, once
    assert week.on(date(2027, 4, 3)) is not None


@pytest.mark.parametrize(
    ("spec", "holidays"),
    [
        ({"mon-fri": "9-21"}, []),
        ({"fri-mon": "09:00-21:00"}, []),
        ({"monday": "09:00-21:00"}, []),
        ({"mon": "09:00-09:00"}, []),
        ({"mon": "09:00-21:00"}, ["25/12"]),
        ({"mon": "09:00-21:00"}, ["2026-02-30"]),
    ],
)
def test_bad_weekly_windows_are_refused(spec: dict[str, str], holidays: list[str]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 (each case has its own message)
        WeeklyWindow.parse(spec, holidays)


def test_recipient_zones_prefer_the_contact_then_the_number_then_the_country() -> None:
    assert recipient_zones("Europe/Lisbon", "+5511912345678", "BR") == ("Europe/Lisbon",)
    assert recipient_zones(None, "+5511912345678", "PT") == ("America/Sao_Paulo",)
    assert recipient_zones("Not/AZone", None, "PT") == (
        "Atlantic/Azores",
        "Atlantic/Madeira",
        "Europe/Lisbon",
    )
    assert recipient_zones(None, "+15555550100", None) == ()
    assert recipient_zones(None, None, None) == ()


def test_number_country_reads_the_region_of_an_e164_number() -> None:
    assert number_country("+5511912345678") == "BR"
    assert number_country("+12125550100") == "US"
    assert number_country("not a number") is None
