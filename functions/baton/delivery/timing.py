"""When a message may go out: daily and weekly windows in the recipient's local time.

A window is turned into UTC intervals in each candidate zone, so rules (quiet hours R-TCPA-2,
a calling window R-BR-1, a step's window) and zones combine by intersection: a send is
allowed when the moment lies in every interval set, and otherwise held until the next start
of their intersection. Local times are read with zoneinfo, so daylight-saving days come out
right: a start that falls in a skipped hour or a repeated one is taken at its later instant,
an end at its earlier one, so a window never grows across a clock change.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from dateutil import easter

# How far ahead a window's next opening is looked for; a window that stays shut longer
# (a zone set whose windows never overlap) is a refusal, not a hold.
HORIZON_DAYS = 15

Interval = tuple[datetime, datetime]  # [start, end) in UTC

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")


def clock_time(text: str) -> time:
    """`"08:00"` -> time(8, 0); ValueError for anything but 24-hour HH:MM."""
    match = _CLOCK.fullmatch(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a time: use HH:MM (24 h)")
    return time(int(match[1]), int(match[2]))


class Schedule(Protocol):
    def on(self, day: date) -> DailyWindow | None:
        """The window of a local calendar day, or None when the day is closed."""
        ...


@dataclass(frozen=True, slots=True)
class DailyWindow:
    """The same window every day, from `start` to `end` local time. An `end` at or before
    `start` runs past midnight (`22:00-06:00`)."""

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start == self.end:
            raise ValueError("a window needs different start and end times")

    @classmethod
    def between(cls, start: str, end: str) -> DailyWindow:
        return cls(clock_time(start), clock_time(end))

    @classmethod
    def parse(cls, text: str) -> DailyWindow:
        """`"08:00-21:00"`."""
        start, separator, end = text.partition("-")
        if not separator:
            raise ValueError(f"{text!r} is not a window: use HH:MM-HH:MM")
        return cls.between(start, end)

    @property
    def overnight(self) -> bool:
        return self.end <= self.start

    def within(self, outer: DailyWindow) -> bool:
        """True when this window never opens outside `outer` (both within one day)."""
        return (
            not self.overnight and not outer.overnight and outer.start <= self.start and self.end <= outer.end
        )

    def on(self, day: date) -> DailyWindow | None:
        return self

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


@dataclass(frozen=True, slots=True)
class WeeklyWindow:
    """A window per weekday (Monday first; None: closed that day), closed on `holidays`:
    `MM-DD` every year, `YYYY-MM-DD` once, or `easter-2` / `easter+60`: days from Western
    Easter Sunday, for the holidays that move every year (Good Friday is `easter-2`)."""

    days: tuple[DailyWindow | None, ...]
    holidays: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if len(self.days) != len(WEEKDAYS):
            raise ValueError("a weekly window names seven days")

    @classmethod
    def parse(cls, spec: Mapping[str, str], holidays: Iterable[str] = ()) -> WeeklyWindow:
        """`{"mon-fri": "09:00-21:00", "sat": "10:00-16:00"}`; days not named are closed."""
        days: list[DailyWindow | None] = [None] * len(WEEKDAYS)
        for key, window in spec.items():
            for index in _day_range(key):
                days[index] = DailyWindow.parse(window)
        for holiday in holidays:
            _check_holiday(holiday)
        return cls(tuple(days), frozenset(holidays))

    def on(self, day: date) -> DailyWindow | None:
        if day.isoformat() in self.holidays or day.strftime("%m-%d") in self.holidays:
            return None
        if _from_easter(day) in self.holidays:
            return None
        return self.days[day.weekday()]


def open_intervals(schedule: Schedule, zone: ZoneInfo, around: datetime) -> list[Interval]:
    """The schedule's open intervals in `zone`, as UTC, from the day before `around` to the horizon."""
    today = around.astimezone(zone).date()
    intervals: list[Interval] = []
    for offset in range(-1, HORIZON_DAYS + 1):
        day = today + timedelta(days=offset)
        window = schedule.on(day)
        if window is None:
            continue
        start = _instant(day, window.start, zone, latest=True)
        end = _instant(day + timedelta(days=1) if window.overnight else day, window.end, zone, latest=False)
        if start < end:
            intervals.append((start, end))
    return _merged(intervals)


def intersect(first: Sequence[Interval], second: Sequence[Interval]) -> list[Interval]:
    """The moments in both interval lists (each sorted and disjoint)."""
    result: list[Interval] = []
    i = j = 0
    while i < len(first) and j < len(second):
        start = max(first[i][0], second[j][0])
        end = min(first[i][1], second[j][1])
        if start < end:
            result.append((start, end))
        if first[i][1] <= second[j][1]:
            i += 1
        else:
            j += 1
    return result


def is_open(intervals: Sequence[Interval], moment: datetime) -> bool:
    return any(start <= moment < end for start, end in intervals)


def next_opening(intervals: Sequence[Interval], moment: datetime) -> datetime | None:
    """The first start after `moment`, or None within the horizon."""
    return next((start for start, _ in intervals if start > moment), None)


def _instant(day: date, at: time, zone: ZoneInfo, *, latest: bool) -> datetime:
    # A local time in a skipped hour (spring forward) or a repeated one (fall back) has two
    # readings: fold=0 and fold=1. Take the later for a start, the earlier for an end.
    readings = [datetime.combine(day, at, tzinfo=zone).replace(fold=fold).astimezone(UTC) for fold in (0, 1)]
    return max(readings) if latest else min(readings)


def _merged(intervals: list[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _day_range(key: str) -> range:
    first, _, last = key.strip().lower().partition("-")
    try:
        start = WEEKDAYS.index(first)
        end = WEEKDAYS.index(last) if last else start
    except ValueError:
        raise ValueError(f"{key!r} is not a day or day range: use mon..sun or mon-fri") from None
    if end < start:
        raise ValueError(f"{key!r}: a day range runs forward within the week")
    return range(start, end + 1)


_EASTER = re.compile(r"^easter([+-][0-9]{1,3})?$")


def _from_easter(day: date) -> str:
    """The day as an Easter-relative holiday spec: `easter`, `easter-2`, `easter+60`."""
    offset = (day - easter_sunday(day.year)).days
    return "easter" if offset == 0 else f"easter{offset:+d}"


def easter_sunday(year: int) -> date:
    """Western (Gregorian) Easter Sunday of `year`, by dateutil's algorithm."""
    found: date = easter.easter(year, easter.EASTER_WESTERN)
    return found


def _check_holiday(text: str) -> None:
    if _EASTER.fullmatch(text):
        return
    try:
        if len(text) == len("MM-DD"):
            date.fromisoformat(f"2000-{text}")  # a leap year, so 02-29 is accepted
        elif len(text) == len("YYYY-MM-DD"):
            date.fromisoformat(text)
        else:
            raise ValueError(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a holiday: use MM-DD, YYYY-MM-DD or easter-N") from None
