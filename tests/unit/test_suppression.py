"""Suppression keys are salted hashes of the normalised address, one per channel."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

import pytest

from baton.clock import FixedClock
from baton.consent.vocabulary import Channel
from baton.suppression.exceptions import InvalidSuppressionAddress
from baton.suppression.hashing import address_hash
from baton.suppression.models import SuppressionReason
from baton.suppression.repository import InMemorySuppressionRepository
from baton.suppression.service import SuppressionService

SALT = b"s" * 64


def test_the_hash_is_hex_hmac_sha256_of_channel_and_normalised_address() -> None:
    expected = hmac.new(SALT, b"email:ana@example.com", hashlib.sha256).hexdigest()

    assert address_hash(SALT, Channel.EMAIL, "Ana@Example.com") == expected


@pytest.mark.parametrize(
    ("channel", "one", "other"),
    [
        (Channel.EMAIL, "Ana@Example.COM", " ana@example.com "),
        (Channel.SMS, "+1 (201) 555-0123", "+12015550123"),
        (Channel.VOICE, "tel:+1-201-555-0123", "+1 201 555 0123"),
    ],
)
def test_the_same_address_written_differently_hashes_the_same(channel: Channel, one: str, other: str) -> None:
    assert address_hash(SALT, channel, one) == address_hash(SALT, channel, other)


def test_the_same_number_hashes_differently_per_channel() -> None:
    assert address_hash(SALT, Channel.SMS, "+12015550123") != address_hash(
        SALT, Channel.VOICE, "+12015550123"
    )


def test_a_different_salt_gives_a_different_hash() -> None:
    assert address_hash(SALT, Channel.EMAIL, "a@example.com") != address_hash(
        b"t" * 64, Channel.EMAIL, "a@example.com"
    )


@pytest.mark.parametrize(("channel", "address"), [(Channel.EMAIL, "nope"), (Channel.SMS, "201 555 0123")])
def test_an_address_that_cannot_be_normalised_cannot_be_hashed(channel: Channel, address: str) -> None:
    with pytest.raises(InvalidSuppressionAddress):
        address_hash(SALT, channel, address)


@pytest.fixture
def suppression() -> SuppressionService:
    clock = FixedClock(datetime(2026, 5, 1, tzinfo=UTC))
    return SuppressionService(InMemorySuppressionRepository(), lambda: SALT, clock)


def test_given_a_stop_when_checked_in_another_form_then_suppressed(suppression: SuppressionService) -> None:
    suppression.add(Channel.SMS, "+1 201 555 0123", SuppressionReason.OPT_OUT, "keyword")

    entry = suppression.check(Channel.SMS, "+12015550123")

    assert entry is not None
    assert entry.reason == SuppressionReason.OPT_OUT
    assert suppression.check(Channel.VOICE, "+12015550123") is None


def test_given_start_when_removed_then_no_longer_suppressed_r_ctia_4(suppression: SuppressionService) -> None:
    suppression.add(Channel.SMS, "+12015550123", SuppressionReason.OPT_OUT, "keyword")

    removed = suppression.remove(Channel.SMS, "+12015550123")

    assert removed is not None
    assert suppression.check(Channel.SMS, "+12015550123") is None
    assert suppression.remove(Channel.SMS, "+12015550123") is None


def test_a_source_that_looks_like_personal_data_is_refused(suppression: SuppressionService) -> None:
    with pytest.raises(ValueError, match="source"):
        suppression.add(Channel.EMAIL, "a@example.com", SuppressionReason.MANUAL, "agent ana@example.com")


def test_an_opt_out_is_owed_its_confirmation_by_the_act_that_made_it_and_its_retries_only() -> None:
    service = SuppressionService(
        InMemorySuppressionRepository(), lambda: SALT, FixedClock(datetime(2026, 5, 1, tzinfo=UTC))
    )

    first = service.add_first(
        Channel.SMS, "+12015550123", SuppressionReason.OPT_OUT, "keyword:opt_out", claim="in-1"
    )
    retried = service.add_first(
        Channel.SMS, "+12015550123", SuppressionReason.OPT_OUT, "keyword:opt_out", claim="in-1"
    )
    second = service.add_first(
        Channel.SMS, "+12015550123", SuppressionReason.OPT_OUT, "keyword:opt_out", claim="in-2"
    )

    assert (first, retried, second) == (True, True, False)
    entry = service.check(Channel.SMS, "+12015550123")
    assert entry is not None
    assert entry.claim is not None
    assert "in-1" not in entry.claim  # a digest only: suppression outlives erasure
