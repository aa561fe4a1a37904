"""The local stack's virtual clock: it stands still until moved, moves only forward, and reads
`POST /_local/clock` bodies in the DSL's durations."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from infra.local.clock import ClockRequestError, VirtualClock, parse_clock_request

START = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def test_clock_starts_at_the_given_instant_and_stands_still() -> None:
    clock = VirtualClock(START)

    assert clock.now() == START
    assert clock.now() == START
    assert clock.iso() == "2026-05-01T09:00:00.000000Z"


def test_clock_without_a_start_begins_at_the_real_now_in_utc() -> None:
    before = datetime.now(UTC)

    now = VirtualClock().now()

    assert before <= now <= datetime.now(UTC)
    assert now.utcoffset() == timedelta(0)


def test_start_in_another_zone_is_kept_as_the_same_instant_in_utc() -> None:
    clock = VirtualClock(datetime(2026, 5, 1, 6, 0, tzinfo=timezone(timedelta(hours=-3))))

    assert clock.now() == START
    assert clock.now().tzinfo == UTC


def test_advance_moves_forward_and_returns_the_new_now() -> None:
    clock = VirtualClock(START)

    assert clock.advance(timedelta(days=1)) == START + timedelta(days=1)
    assert clock.now() == START + timedelta(days=1)


def test_clock_refuses_to_move_back() -> None:
    clock = VirtualClock(START)

    with pytest.raises(ValueError, match="forward"):
        clock.advance(timedelta(seconds=-1))
    assert clock.move_to(START - timedelta(hours=1)) == START


def test_concurrent_advances_all_count() -> None:
    clock = VirtualClock(START)

    def tick() -> None:
        for _ in range(100):
            clock.advance(timedelta(seconds=1))

    threads = [threading.Thread(target=tick) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert clock.now() == START + timedelta(seconds=400)


@pytest.mark.parametrize(
    ("text", "delta"),
    [
        ("30s", timedelta(seconds=30)),
        ("15m", timedelta(minutes=15)),
        ("4h", timedelta(hours=4)),
        ("2d", timedelta(days=2)),
        ("1w", timedelta(weeks=1)),
    ],
)
def test_advance_takes_the_dsl_durations(text: str, delta: timedelta) -> None:
    assert parse_clock_request({"advance": text}, START).target == START + delta


def test_to_moves_to_an_iso_instant_in_any_zone() -> None:
    assert parse_clock_request({"to": "2026-05-02T09:30:00Z"}, START).target == datetime(
        2026, 5, 2, 9, 30, tzinfo=UTC
    )
    assert parse_clock_request({"to": "2026-05-02T06:30:00-03:00"}, START).target == datetime(
        2026, 5, 2, 9, 30, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"advance": "1 day"}, "advance"),
        ({"advance": "0s"}, "advance"),
        ({"advance": 86400}, "advance"),
        ({"to": "tomorrow"}, "to"),
        ({"to": "2026-05-02T09:30:00"}, "to"),  # no zone: refused, not guessed
        ({"to": "2026-04-30T09:00:00Z"}, "to"),  # before now
        ({"to": 1}, "to"),
        ({"advance": "1d", "to": "2026-05-02T09:30:00Z"}, "to"),
        ({}, "advance"),
        ({"advance": "1d", "speed": 2}, "speed"),
        (["advance", "1d"], "body"),
        (None, "body"),
    ],
)
def test_bad_clock_request_names_the_field(body: Any, field: str) -> None:
    with pytest.raises(ClockRequestError) as raised:
        parse_clock_request(body, START)

    assert raised.value.field == field
    assert raised.value.message
