"""Stored timestamps and ids sort as text in time order, so newest-first queries are exact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from baton.clock import FixedClock, SystemClock, as_utc, from_iso, to_iso
from baton.ids import new_id

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def test_timestamps_are_fixed_width_utc_with_z() -> None:
    assert to_iso(T0) == "2026-05-01T12:00:00.000000Z"
    assert to_iso(datetime(2026, 5, 1, 9, 0, 0, 5, tzinfo=timezone(timedelta(hours=-3)))) == (
        "2026-05-01T12:00:00.000005Z"
    )


def test_timestamps_round_trip() -> None:
    moment = datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)

    assert from_iso(to_iso(moment)) == moment


def test_a_naive_datetime_is_refused_rather_than_guessed() -> None:
    with pytest.raises(ValueError, match="naive"):
        as_utc(datetime(2026, 5, 1, 12, 0))


def test_clocks_give_aware_utc_time() -> None:
    assert SystemClock().now().utcoffset() == timedelta(0)
    clock = FixedClock(T0)
    clock.set(T0 + timedelta(days=1))
    assert clock.now() == T0 + timedelta(days=1)


def test_ids_are_26_crockford_characters() -> None:
    identifier = new_id(T0)

    assert len(identifier) == 26
    assert set(identifier) <= set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")


def test_ids_made_later_sort_later() -> None:
    assert new_id(T0) < new_id(T0 + timedelta(milliseconds=1)) < new_id(T0 + timedelta(days=400))


def test_ids_made_in_the_same_millisecond_sort_in_creation_order() -> None:
    ids = [new_id(T0) for _ in range(200)]

    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
