"""EventBridge Scheduler expressions against AWS's documented cron and rate semantics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from baton.schedules.expressions import (
    Cron,
    Rate,
    ScheduleExpressionError,
    next_fire_times,
    parse,
)

JAN_2026 = datetime(2026, 1, 1, tzinfo=UTC)  # a Thursday
END_2026 = datetime(2027, 1, 1, tzinfo=UTC)


def _at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def _fires(
    expression: str, after: datetime = JAN_2026, until: datetime = END_2026, **kw: str
) -> list[datetime]:
    return next_fire_times(expression, after, until, **kw)


# AWS's documented examples (EventBridge Scheduler, "Cron expressions").


def test_10_15_every_day() -> None:
    assert _fires("cron(15 10 * * ? *)", until=_at(2026, 1, 3))[:2] == [
        _at(2026, 1, 1, 10, 15),
        _at(2026, 1, 2, 10, 15),
    ]


def test_18_00_monday_to_friday() -> None:
    fires = _fires("cron(0 18 ? * MON-FRI *)", until=_at(2026, 1, 12))
    assert [f.day for f in fires] == [1, 2, 5, 6, 7, 8, 9]  # Thu 1, Fri 2, Mon 5 .. Fri 9
    assert all(f.hour == 18 and f.minute == 0 for f in fires)


def test_8_00_on_the_first_of_every_month() -> None:
    fires = _fires("cron(0 8 1 * ? *)")
    assert fires == [_at(2026, month, 1, 8) for month in range(1, 13)]


def test_every_10_minutes_monday_to_friday() -> None:
    fires = _fires("cron(0/10 * ? * MON-FRI *)", until=_at(2026, 1, 1, 1))
    assert fires == [_at(2026, 1, 1, 0, m) for m in (10, 20, 30, 40, 50)] + [_at(2026, 1, 1, 1)]


def test_every_5_minutes_between_8_00_and_17_55_weekdays() -> None:
    fires = _fires("cron(0/5 8-17 ? * MON-FRI *)", until=_at(2026, 1, 2))
    assert fires[0] == _at(2026, 1, 1, 8)
    assert fires[-1] == _at(2026, 1, 1, 17, 55)
    assert len(fires) == 10 * 12


def test_9_00_on_the_first_monday_of_each_month() -> None:
    fires = _fires("cron(0 9 ? * 2#1 *)")
    assert [(f.month, f.day) for f in fires[:4]] == [(1, 5), (2, 2), (3, 2), (4, 6)]


def test_l_in_day_of_month_is_the_last_day() -> None:
    fires = _fires("cron(0 12 L * ? *)")
    assert [(f.month, f.day) for f in fires[:3]] == [(1, 31), (2, 28), (3, 31)]
    leap = next_fire_times("cron(0 12 L 2 ? *)", _at(2028, 1, 1), _at(2028, 12, 31))
    assert leap == [_at(2028, 2, 29, 12)]


def test_l_minus_n_is_days_before_the_last() -> None:
    assert _fires("cron(0 0 L-2 1 ? *)") == [_at(2026, 1, 29)]


def test_l_in_day_of_week_is_saturday_and_nl_the_last_of_that_day() -> None:
    assert _fires("cron(0 0 ? * L *)", until=_at(2026, 1, 8)) == [_at(2026, 1, 3)]
    fires = _fires("cron(0 10 ? * 6L *)")  # the last Friday
    assert [(f.month, f.day) for f in fires[:3]] == [(1, 30), (2, 27), (3, 27)]


def test_w_is_the_nearest_weekday_within_the_month() -> None:
    # 2026-02-15 is a Sunday -> Monday 16; 2026-03-15 a Sunday -> 16; 2026-08-15 a Saturday -> Friday 14.
    fires = _fires("cron(0 9 15W * ? *)")
    assert {(f.month, f.day) for f in fires} >= {(1, 15), (2, 16), (3, 16), (8, 14)}
    # 2026-08-01 is a Saturday: the nearest weekday in August is Monday 3, not July 31.
    assert _fires("cron(0 9 1W 8 ? *)") == [_at(2026, 8, 3, 9)]
    # 2026-05-31 is a Sunday: the nearest weekday in May is Friday 29.
    assert _fires("cron(0 9 LW 5 ? *)") == [_at(2026, 5, 29, 9)]


def test_lists_ranges_names_and_years() -> None:
    fires = _fires("cron(30 6,18 1 JAN-MAR,DEC ? 2026-2027)", until=_at(2028, 1, 1))
    assert len(fires) == 2 * 4 * 2
    assert _fires("cron(0 0 1 1 ? 2025)") == []
    assert _fires("cron(0 0 ? 1 SUN#5 *)") == []  # January 2026 has four Sundays


def test_a_stepped_range() -> None:
    assert [f.minute for f in _fires("cron(10-40/15 0 1 1 ? 2026)")] == [10, 25, 40]


def test_after_is_exclusive_and_until_inclusive() -> None:
    at_nine = _at(2026, 3, 1, 9)
    assert _fires("cron(0 9 1 * ? *)", after=at_nine, until=_at(2026, 4, 1, 9)) == [_at(2026, 4, 1, 9)]
    assert _fires("cron(0 9 1 * ? *)", after=at_nine, until=at_nine) == []


def test_a_time_zone_shifts_wall_clock_times_and_follows_daylight_saving() -> None:
    fires = _fires("cron(0 9 1 * ? *)", timezone="Europe/Berlin")
    assert fires[0] == _at(2026, 1, 1, 8)  # CET, UTC+1
    assert fires[6] == _at(2026, 7, 1, 7)  # CEST, UTC+2
    assert _fires("cron(0 9 1 1 ? *)", timezone="America/Sao_Paulo") == [_at(2026, 1, 1, 12)]


def test_daylight_saving_skips_the_missing_hour_and_runs_the_repeated_one_once() -> None:
    # America/New_York: 2026-03-08 02:00 -> 03:00 (02:30 does not exist); 2026-11-01 01:30 twice.
    spring = _fires(
        "cron(30 2 * 3 ? 2026)", after=_at(2026, 3, 7), until=_at(2026, 3, 10), timezone="America/New_York"
    )
    assert spring == [_at(2026, 3, 7, 7, 30), _at(2026, 3, 9, 6, 30)]
    autumn = _fires(
        "cron(30 1 * 11 ? 2026)",
        after=_at(2026, 11, 1),
        until=_at(2026, 11, 2, 12),
        timezone="America/New_York",
    )
    assert autumn == [_at(2026, 11, 1, 5, 30), _at(2026, 11, 2, 6, 30)]  # EDT first, then EST


def test_rate_fires_every_n_units_from_the_anchor() -> None:
    anchor = _at(2026, 1, 1, 0, 0)
    assert next_fire_times("rate(5 minutes)", anchor, _at(2026, 1, 1, 0, 16)) == [
        _at(2026, 1, 1, 0, 5),
        _at(2026, 1, 1, 0, 10),
        _at(2026, 1, 1, 0, 15),
    ]
    later = next_fire_times("rate(1 day)", _at(2026, 1, 3, 12), _at(2026, 1, 6), anchor=anchor)
    assert later == [_at(2026, 1, 4), _at(2026, 1, 5), _at(2026, 1, 6)]
    assert parse("rate(2 hours)") == Rate(timedelta(hours=2))


@pytest.mark.parametrize(
    ("expression", "says"),
    [
        ("cron(0 9 * * *)", "6 fields"),
        ("cron(0 9 * * MON *)", "exactly one of day-of-month and day-of-week"),
        ("cron(0 9 ? * ? *)", "exactly one of day-of-month and day-of-week"),
        ("cron(60 9 * * ? *)", "outside 0-59"),
        ("cron(0 24 * * ? *)", "outside 0-23"),
        ("cron(0 9 32 * ? *)", "outside 1-31"),
        ("cron(0 9 ? * 8 *)", "outside 1-7"),
        ("cron(0 9 ? FOO * *)", "not a value"),
        ("cron(0 9 ? * 2#6 *)", "1 to 5"),
        ("cron(0/0 9 * * ? *)", "positive"),
        ("cron(0 9 20-10 * ? *)", "upwards"),
        ("cron(0 9 * * ? 1969)", "outside 1970-2199"),
        ("rate(0 minutes)", "rate(N"),
        ("rate(1 minutes)", "rate(1 minute)"),
        ("rate(5 minute)", "rate(N minutes)"),
        ("rate(5 weeks)", "rate(N"),
        ("every monday", "cron(...) or rate(...)"),
    ],
)
def test_invalid_expressions_say_what_is_wrong(expression: str, says: str) -> None:
    with pytest.raises(ScheduleExpressionError, match=f".*{says.replace('(', '.').replace(')', '.')}"):
        parse(expression)


def test_an_unknown_time_zone_is_refused() -> None:
    with pytest.raises(ScheduleExpressionError, match="IANA"):
        _fires("cron(0 9 1 * ? *)", timezone="Mars/Olympus")


@given(
    minute=st.integers(0, 59),
    hour=st.integers(0, 23),
    day=st.integers(1, 28),
    start=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
    ),
)
def test_fire_times_are_ascending_in_range_and_match_every_field(
    minute: int, hour: int, day: int, start: datetime
) -> None:
    expression = f"cron({minute} {hour} {day} * ? *)"
    until = start + timedelta(days=400)
    fires = next_fire_times(expression, start, until)
    assert fires == sorted(set(fires))
    assert all(start < f <= until for f in fires)
    assert all((f.minute, f.hour, f.day) == (minute, hour, day) for f in fires)
    assert 12 <= len(fires) <= 14  # once a month over 400 days
    assert isinstance(parse(expression), Cron)
