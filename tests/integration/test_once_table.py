"""The idempotency table's writes compare and set (R-REL-6): of two invocations claiming one key,
exactly one owns it, and a write on a version someone else moved on from is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from baton.data.once import COMPLETED, IN_PROGRESS, DynamoOnceTable, Entry
from baton.settings import Settings

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
KEY = "send#0123456789abcdef0123456789abcdef01234567"


def _claim(expires_in: timedelta = timedelta(days=1)) -> Entry:
    return Entry(KEY, IN_PROGRESS, {}, 1, NOW + expires_in, NOW + timedelta(minutes=15))


def test_r_rel_6_of_two_invocations_claiming_one_key_exactly_one_owns_it(aws: Settings) -> None:
    table = DynamoOnceTable(aws.idempotency_table)

    assert table.write(_claim(), NOW)
    assert not table.write(_claim(), NOW)  # the second claim finds the first one's


def test_r_rel_6_a_write_on_a_version_already_moved_on_from_is_refused(aws: Settings) -> None:
    table = DynamoOnceTable(aws.idempotency_table)
    claim = _claim()
    assert table.write(claim, NOW)
    done = claim.next(COMPLETED, {"outcome": "sent"})
    assert table.write(done, NOW)

    assert not table.write(claim.next(COMPLETED, {"outcome": "failed"}), NOW)  # a stale writer
    stored = table.read(KEY, NOW)
    assert stored is not None
    assert (stored.state, dict(stored.data)) == (COMPLETED, {"outcome": "sent"})


def test_an_expired_key_may_be_claimed_again(aws: Settings) -> None:
    table = DynamoOnceTable(aws.idempotency_table)
    assert table.write(_claim(expires_in=timedelta(seconds=-1)), NOW)

    assert table.write(_claim(), NOW)
