"""Each answer to an inbound text has one entry, written before the provider is called."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from baton.clock import FixedClock
from baton.data.once import InMemoryOnceTable, InProgress
from baton.delivery.message import Purpose
from baton.inbound.replies import ATTEMPTING, SENT, UNKNOWN, Replies

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)


@pytest.fixture
def replies() -> Replies:
    return Replies(InMemoryOnceTable(), FixedClock(NOW))


def test_of_two_runs_answering_one_inbound_message_at_once_only_one_may_call_the_provider(
    replies: Replies,
) -> None:
    one, other = replies.of("in-1", Purpose.HELP_REPLY), replies.of("in-1", Purpose.HELP_REPLY)

    one.attempting("sns")

    with pytest.raises(InProgress):
        other.attempting("sns")
    assert replies.of("in-1", Purpose.HELP_REPLY).leased()


def test_an_answer_the_provider_took_is_settled_with_one_stamp_per_message_and_purpose(
    replies: Replies,
) -> None:
    reply = replies.of("in-1", Purpose.OPT_OUT_CONFIRMATION)
    reply.attempting("sns")
    stamp = reply.accepted("sns", "msg-1")

    stored = replies.of("in-1", Purpose.OPT_OUT_CONFIRMATION)
    assert (stored.state, stored.stamp(), stored.data["provider_message_id"]) == (SENT, stamp, "msg-1")
    assert replies.of("in-1", Purpose.HELP_REPLY).state is None  # another answer, its own entry
    assert replies.of("in-2", Purpose.OPT_OUT_CONFIRMATION).state is None


def test_an_answer_the_provider_certainly_did_not_take_leaves_no_entry(replies: Replies) -> None:
    reply = replies.of("in-1", Purpose.HELP_REPLY)
    reply.attempting("sns")
    reply.not_sent()

    assert replies.of("in-1", Purpose.HELP_REPLY).state is None


def test_an_abandoned_attempt_is_no_longer_leased_and_settles_unknown(replies: Replies) -> None:
    reply = replies.of("in-1", Purpose.HELP_REPLY)
    reply.attempting("sns")
    reply.abandon()

    again = replies.of("in-1", Purpose.HELP_REPLY)
    assert (again.state, again.leased()) == (ATTEMPTING, False)
    again.ambiguous("sns", "invocation_ended")
    assert replies.of("in-1", Purpose.HELP_REPLY).state == UNKNOWN
