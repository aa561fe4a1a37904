"""EventBridge Scheduler expressions, `cron(...)` and `rate(...)`, and when they fire. Pure.

AWS's cron has six fields: minutes hours day-of-month month day-of-week year.

- minutes 0-59, hours 0-23, day-of-month 1-31, month 1-12 or JAN-DEC, day-of-week 1-7 or
  SUN-SAT (1 = Sunday), year 1970-2199.
- `*` any, `,` lists, `-` ranges, `/` steps (`0/15`, `*/5`, `10-40/10`) in every field.
- `?` in day-of-month or day-of-week: exactly one of the two must be `?` (AWS refuses both set).
- `L`: in day-of-month the month's last day (`L-3`: three days before it; `LW`: the last
  weekday); in day-of-week `L` alone is Saturday, `5L` the month's last Thursday.
- `W` in day-of-month: the weekday nearest to that day, never crossing into another month.
- `#` in day-of-week: `3#2` the month's second Tuesday.

`rate(N minute|minutes|hour|hours|day|days)` fires every N units from an anchor (the schedule's
start date; in Baton, the time the schedule was created or the local clock started).

Times are evaluated in UTC unless a time zone (an IANA name, as ScheduleExpressionTimezone) is
given: then the fields are wall-clock times there, and the fire times are returned in UTC. As
EventBridge Scheduler documents it for daylight saving time: a wall-clock time that does not exist
(the hour skipped in spring) does not fire; one that occurs twice (autumn) fires once, at the first.
A rate is a fixed duration (`rate(1 day)` is 24 hours, whatever the wall clock does).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from baton.clock import as_utc

MONTHS: Final = {name.upper(): i for i, name in enumerate(calendar.month_abbr) if name}  # JAN -> 1
DAYS: Final = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
MIN_YEAR: Final = 1970
MAX_YEAR: Final = 2199
# A safety net: `next_fire_times` never returns more than this many times per call.
MAX_FIRES: Final = 100_000

_RATE = re.compile(r"^rate\(\s*([1-9][0-9]*)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_CRON = re.compile(r"^cron\((.*)\)$")
_UNIT_SECONDS: Final = {"minute": 60, "hour": 3600, "day": 86400}


class ScheduleExpressionError(ValueError):
    """The text is not a valid EventBridge Scheduler cron or rate expression."""


@dataclass(frozen=True)
class Rate:
    every: timedelta


@dataclass(frozen=True)
class DayOfMonth:
    """`days` (a set), or a special form: `last` (L, offset `L-n`), `weekday_of` (nW), `last_weekday` (LW)."""

    any: bool = False
    days: frozenset[int] = frozenset()
    last: bool = False
    last_offset: int = 0
    weekday_of: int | None = None
    last_weekday: bool = False

    def matches(self, day: date) -> bool:
        length = calendar.monthrange(day.year, day.month)[1]
        if self.any:
            return True
        if self.last:
            return day.day == length - self.last_offset
        if self.last_weekday:
            return day == _nearest_weekday(day.year, day.month, length)
        if self.weekday_of is not None:
            if self.weekday_of > length:
                return False
            return day == _nearest_weekday(day.year, day.month, self.weekday_of)
        return day.day in self.days


@dataclass(frozen=True)
class DayOfWeek:
    """`days` (AWS numbering, 1 = Sunday), `last_of` (nL), or `nth` ((day, n) for `d#n`)."""

    any: bool = False
    days: frozenset[int] = frozenset()
    last_of: int | None = None
    nth: tuple[int, int] | None = None

    def matches(self, day: date) -> bool:
        if self.any:
            return True
        aws_day = (day.isoweekday() % 7) + 1  # Monday (1) -> 2, Sunday (7) -> 1
        length = calendar.monthrange(day.year, day.month)[1]
        if self.last_of is not None:
            return aws_day == self.last_of and day.day + 7 > length
        if self.nth is not None:
            weekday, n = self.nth
            return aws_day == weekday and (day.day - 1) // 7 + 1 == n
        return aws_day in self.days


@dataclass(frozen=True)
class Cron:
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    day_of_month: DayOfMonth
    months: frozenset[int]
    day_of_week: DayOfWeek
    years: frozenset[int]

    def matches_day(self, day: date) -> bool:
        return (
            day.year in self.years
            and day.month in self.months
            and self.day_of_month.matches(day)
            and self.day_of_week.matches(day)
        )


Expression = Cron | Rate


def parse(expression: str) -> Expression:
    """`cron(...)` or `rate(...)`; raises ScheduleExpressionError naming what is wrong."""
    text = expression.strip()
    rate = _RATE.fullmatch(text)
    if rate:
        value, unit = int(rate.group(1)), rate.group(2)
        if (value == 1) != (not unit.endswith("s")):
            raise ScheduleExpressionError(
                f"{expression!r}: write `rate(1 {unit.rstrip('s')})` for one,"
                f" `rate(N {unit.rstrip('s')}s)` for more"
            )
        return Rate(timedelta(seconds=value * _UNIT_SECONDS[unit.rstrip("s")]))
    if text.startswith("rate("):
        raise ScheduleExpressionError(f"{expression!r}: use rate(N minutes|hours|days)")
    cron = _CRON.fullmatch(text)
    if not cron:
        raise ScheduleExpressionError(
            f"{expression!r} is not an EventBridge schedule: use cron(...) or rate(...)"
        )
    fields = cron.group(1).split()
    if len(fields) != 6:
        raise ScheduleExpressionError(
            f"{expression!r}: cron needs 6 fields (minutes hours day-of-month month day-of-week year),"
            f" found {len(fields)}"
        )
    minute, hour, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise ScheduleExpressionError(
            f"{expression!r}: exactly one of day-of-month and day-of-week must be `?`"
        )
    try:
        return Cron(
            minutes=tuple(sorted(_values(minute, 0, 59, {}))),
            hours=tuple(sorted(_values(hour, 0, 23, {}))),
            day_of_month=_day_of_month(dom),
            months=frozenset(_values(month, 1, 12, MONTHS)),
            day_of_week=_day_of_week(dow),
            years=frozenset(_values(year, MIN_YEAR, MAX_YEAR, {})),
        )
    except ScheduleExpressionError as exc:
        raise ScheduleExpressionError(f"{expression!r}: {exc}") from None


def validate(expression: str, timezone: str | None = None) -> None:
    """Raise ScheduleExpressionError when the expression (or the time zone) is not valid."""
    parse(expression)
    _zone(timezone)


def next_fire_times(
    expression: str | Expression,
    after: datetime,
    until: datetime,
    *,
    timezone: str | None = None,
    anchor: datetime | None = None,
) -> list[datetime]:
    """The times (UTC, ascending) the schedule fires strictly after `after` and at or before
    `until`. A rate fires at `anchor` + k * N (anchor: `after` when not given)."""
    parsed = parse(expression) if isinstance(expression, str) else expression
    after, until = _aware(after), _aware(until)
    if until <= after:
        return []
    if isinstance(parsed, Rate):
        return _rate_times(parsed, after, until, _aware(anchor) if anchor else after)
    zone = _zone(timezone)
    fires: list[datetime] = []
    for moment in _cron_times(parsed, after, until, zone):
        fires.append(moment)
        if len(fires) >= MAX_FIRES:
            break
    return fires


def _rate_times(rate: Rate, after: datetime, until: datetime, anchor: datetime) -> list[datetime]:
    if anchor > after:
        first = anchor
    else:
        steps = (after - anchor) // rate.every + 1
        first = anchor + steps * rate.every
    fires: list[datetime] = []
    moment = first
    while moment <= until and len(fires) < MAX_FIRES:
        if moment > after:
            fires.append(moment.astimezone(UTC))
        moment += rate.every
    return fires


def _cron_times(cron: Cron, after: datetime, until: datetime, zone: ZoneInfo) -> Iterator[datetime]:
    day = after.astimezone(zone).date() - timedelta(days=1)  # a day early: offsets cross midnight
    last_day = until.astimezone(zone).date() + timedelta(days=1)
    seen: set[datetime] = set()
    while day <= last_day:
        if day.year > max(cron.years):
            return
        if cron.matches_day(day):
            for hour in cron.hours:
                for minute in cron.minutes:
                    local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
                    moment = local.astimezone(UTC)
                    if moment.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
                        continue  # skipped by daylight saving time (spring): AWS skips it too
                    if after < moment <= until and moment not in seen:
                        seen.add(moment)
                        yield moment
        day += timedelta(days=1)


def _values(field: str, low: int, high: int, names: dict[str, int]) -> set[int]:
    values: set[int] = set()
    for part in field.split(","):
        if not part:
            raise ScheduleExpressionError(f"empty list item in {field!r}")
        values |= _part(part, low, high, names)
    return values


def _part(part: str, low: int, high: int, names: dict[str, int]) -> set[int]:
    base, slash, step_text = part.partition("/")
    step = 1
    if slash:
        if not step_text.isdigit() or int(step_text) == 0:
            raise ScheduleExpressionError(f"{part!r}: the step after `/` must be a positive number")
        step = int(step_text)
    if base == "*":
        start, end = low, high
    elif "-" in base:
        first, _, second = base.partition("-")
        start, end = _number(first, low, high, names), _number(second, low, high, names)
        if start > end:
            raise ScheduleExpressionError(f"{part!r}: a range must go upwards")
    else:
        start = _number(base, low, high, names)
        end = high if slash else start  # `0/15`: from 0, every 15
    return set(range(start, end + 1, step))


def _number(text: str, low: int, high: int, names: dict[str, int]) -> int:
    upper = text.upper()
    if upper in names:
        return names[upper]
    if not text.isdigit():
        raise ScheduleExpressionError(f"{text!r} is not a value of this field ({low}-{high})")
    value = int(text)
    if not low <= value <= high:
        raise ScheduleExpressionError(f"{value} is outside {low}-{high}")
    return value


def _day_of_month(field: str) -> DayOfMonth:
    upper = field.upper()
    if field in {"?", "*"}:
        return DayOfMonth(any=True)
    if upper == "L":
        return DayOfMonth(last=True)
    if upper == "LW":
        return DayOfMonth(last_weekday=True)
    offset = re.fullmatch(r"L-([0-9]{1,2})", upper)
    if offset:
        if int(offset.group(1)) > 30:
            raise ScheduleExpressionError(f"{field!r}: L-n needs n at most 30")
        return DayOfMonth(last=True, last_offset=int(offset.group(1)))
    weekday = re.fullmatch(r"([0-9]{1,2})W", upper)
    if weekday:
        return DayOfMonth(weekday_of=_number(weekday.group(1), 1, 31, {}))
    if "L" in upper or "W" in upper or "#" in upper:
        raise ScheduleExpressionError(f"day-of-month {field!r}: use L, L-n, LW or nW")
    return DayOfMonth(days=frozenset(_values(field, 1, 31, {})))


def _day_of_week(field: str) -> DayOfWeek:
    upper = field.upper()
    if field in {"?", "*"}:
        return DayOfWeek(any=True)
    if upper == "L":
        return DayOfWeek(days=frozenset({DAYS["SAT"]}))
    last = re.fullmatch(r"([0-9A-Z]+)L", upper)
    if last:
        return DayOfWeek(last_of=_number(last.group(1), 1, 7, DAYS))
    if "#" in upper:
        day_text, _, n_text = upper.partition("#")
        if not n_text.isdigit() or not 1 <= int(n_text) <= 5:
            raise ScheduleExpressionError(f"day-of-week {field!r}: `#` takes 1 to 5")
        return DayOfWeek(nth=(_number(day_text, 1, 7, DAYS), int(n_text)))
    return DayOfWeek(days=frozenset(_values(field, 1, 7, DAYS)))


def _nearest_weekday(year: int, month: int, day_of_month: int) -> date:
    """The weekday (Mon-Fri) nearest to the day, within the month (AWS's `W`)."""
    target = date(year, month, day_of_month)
    length = calendar.monthrange(year, month)[1]
    if target.weekday() == 5:  # Saturday: Friday before, unless that leaves the month
        return target - timedelta(days=1) if day_of_month > 1 else target + timedelta(days=2)
    if target.weekday() == 6:  # Sunday: Monday after, unless that leaves the month
        return target + timedelta(days=1) if day_of_month < length else target - timedelta(days=2)
    return target


def _zone(timezone: str | None) -> ZoneInfo:
    if timezone is None or timezone == "UTC":
        return ZoneInfo("UTC")
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleExpressionError(f"{timezone!r} is not an IANA time zone") from None


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("naive datetime: schedules only handle timezone-aware times")
    return moment.astimezone(UTC)


def parse_schedule_time(text: str) -> datetime:
    """`2026-01-01T09:00:00Z` (what `<aws.scheduler.scheduled-time>` gives) -> an aware datetime."""
    return as_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
