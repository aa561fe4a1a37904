"""Where Baton reads the time: a `Clock` injected into every service, so journeys can swap in a
virtual clock and tests can freeze time. Timestamps are stored as fixed-width UTC ISO 8601."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Protocol

from pydantic import AfterValidator, PlainSerializer

# Fixed width (always microseconds, always `Z`) so stored timestamps sort as strings do, and
# so Step Functions Wait states accept them (they refuse `+00:00`).
_ISO_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The real wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that only moves when told to: for tests and the local virtual clock."""

    def __init__(self, start: datetime) -> None:
        self._now = as_utc(start)

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = as_utc(moment)


_process_clock: Clock | None = None


def process_clock() -> Clock:
    """The clock the composition root wires in: the wall clock, unless the local stack set one."""
    return _process_clock or SystemClock()


def use_clock(clock: Clock | None) -> None:
    """Make `clock` the process clock (the local stack's virtual clock); None restores the wall clock."""
    global _process_clock  # one process-wide switch, used by local mode only
    _process_clock = clock


def as_utc(moment: datetime) -> datetime:
    """The same instant in UTC; a naive datetime is refused rather than guessed."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("naive datetime: Baton only handles timezone-aware times")
    return moment.astimezone(UTC)


def to_iso(moment: datetime) -> str:
    """`2026-05-01T09:30:00.000000Z`: sortable as text, accepted by Step Functions."""
    return as_utc(moment).strftime(_ISO_FORMAT)


def from_iso(text: str) -> datetime:
    """Parse a timestamp written by `to_iso` (or any ISO 8601 with an offset) as aware UTC."""
    return as_utc(datetime.fromisoformat(text))


# A timestamp field for pydantic models: aware UTC in Python, `to_iso` text in JSON and storage.
Timestamp = Annotated[
    datetime, AfterValidator(as_utc), PlainSerializer(to_iso, return_type=str, when_used="json")
]
