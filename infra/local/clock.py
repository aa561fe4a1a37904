"""The local stack's virtual clock: what handlers, waits, retries and the outbox read as now.
It stands still until told to move (`advance`, `move_to`), so what a test sees does not depend
on how fast the machine is; `POST /_local/clock` moves it (see `parse_clock_request`)."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from baton.clock import as_utc, from_iso, to_iso
from baton.journeys.durations import parse_duration


class VirtualClock:
    """A `baton.clock.Clock` that starts at the real now (or `start`) and moves only forward."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = as_utc(start) if start is not None else datetime.now(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, by: timedelta) -> datetime:
        """Move forward by `by` (not negative); returns the new now."""
        if by < timedelta(0):
            raise ValueError(f"the clock only moves forward, not by {by}")
        with self._lock:
            self._now += by
            return self._now

    def move_to(self, moment: datetime) -> datetime:
        """Move forward to `moment`; a moment already past leaves the clock where it is."""
        target = as_utc(moment)
        with self._lock:
            self._now = max(self._now, target)
            return self._now

    def iso(self) -> str:
        return to_iso(self.now())


class ClockRequestError(ValueError):
    """A `POST /_local/clock` body that names no valid move; `field` is the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class ClockMove:
    """Where a clock request moves the clock to."""

    target: datetime


def parse_clock_request(body: Any, now: datetime) -> ClockMove:
    """`{"advance": "1d"}` (a DSL duration: 30s, 15m, 4h, 2d, 1w) or `{"to": "<ISO 8601>"}` (not
    before `now`). Raises `ClockRequestError` naming the field."""
    if not isinstance(body, Mapping):
        raise ClockRequestError("body", 'send {"advance": "1d"} or {"to": "2026-05-01T09:00:00Z"}')
    unknown = sorted(set(body) - {"advance", "to"})
    if unknown:
        raise ClockRequestError(unknown[0], "unknown field: send advance or to")
    if ("advance" in body) == ("to" in body):
        field = "advance" if "advance" not in body else "to"
        raise ClockRequestError(field, "send exactly one of advance and to")
    if "advance" in body:
        text = body["advance"]
        if not isinstance(text, str):
            raise ClockRequestError("advance", "a duration such as 30s, 15m, 4h, 2d or 1w")
        try:
            return ClockMove(now + parse_duration(text))
        except ValueError as exc:
            raise ClockRequestError("advance", str(exc)) from exc
    text = body["to"]
    if not isinstance(text, str):
        raise ClockRequestError("to", "an ISO 8601 time with a zone, such as 2026-05-01T09:00:00Z")
    try:
        target = from_iso(text)
    except ValueError as exc:
        raise ClockRequestError(
            "to", f"{text!r} is not an ISO 8601 time with a zone (e.g. 2026-05-01T09:00:00Z)"
        ) from exc
    if target < now:
        raise ClockRequestError("to", f"{text} is before the clock's now ({to_iso(now)}): time only moves on")
    return ClockMove(target)
