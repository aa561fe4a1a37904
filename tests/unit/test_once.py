"""Exactly once, in memory: the one idempotency mechanism (`baton.data.once`), how provider
failures are classed (taken or not, ambiguous), the message id the providers echo, and the
DSL's at-most-once rule for marketing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from pydantic import ValidationError

from baton.clock import FixedClock
from baton.consent.vocabulary import Channel
from baton.data.once import (
    COMPLETED,
    MAX_LEASE,
    Entry,
    InMemoryOnceTable,
    InProgress,
    Once,
    OnceUnavailable,
)
from baton.delivery.eum import message_context
from baton.delivery.exceptions import (
    ProviderAmbiguous,
    ProviderRejected,
    ProviderThrottled,
    ProviderUnavailable,
    translate,
)
from baton.delivery.message import MESSAGE_TAG, OutboundMessage, Purpose
from baton.journeys.models import Journey

NOW = datetime(2026, 5, 4, 15, tzinfo=UTC)
ENDPOINT = "https://email.us-east-1.amazonaws.com"


class _TableThatCannotDelete(InMemoryOnceTable):
    """A table whose delete is lost, as when the invocation dies before it releases its key."""

    def delete(self, entry: Entry) -> bool:
        return False


class _TableFailingCompletions(InMemoryOnceTable):
    """A table whose writes of a finished answer fail `failures` times (throttled, 5xx)."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    def write(self, entry: Entry, now: datetime) -> bool:
        if entry.state == COMPLETED and self.failures > 0:
            self.failures -= 1
            raise OnceUnavailable("the idempotency table could not be written")
        return super().write(entry, now)


class _Work:
    def __init__(self) -> None:
        self.runs = 0

    def __call__(self) -> dict[str, Any]:
        self.runs += 1
        return {"answer": self.runs}


def test_a_completion_write_that_fails_once_is_written_again_and_a_repeat_answers_from_the_store() -> None:
    once = Once(
        _TableFailingCompletions(1), prefix="baton.event", keep=timedelta(days=7), clock=FixedClock(NOW)
    )
    work = _Work()

    first = once.run({"key": "k-1"}, work)
    repeat = once.run({"key": "k-1"}, work)

    assert first == repeat == {"answer": 1}
    assert work.runs == 1


def test_work_whose_answer_cannot_be_stored_still_answers_and_a_repeatable_key_runs_again_at_once() -> None:
    table = _TableFailingCompletions(failures=10**6)
    once = Once(
        table, prefix="baton.journey-step", keep=timedelta(days=7), clock=FixedClock(NOW), repeatable=True
    )
    work = _Work()

    first = once.run({"key": "k-1"}, work)  # done: raising would have the caller retry it
    repeat = once.run({"key": "k-1"}, work)  # no wait for a lease: the key was freed

    assert (first, repeat) == ({"answer": 1}, {"answer": 2})
    assert table.entries == {}


def test_work_whose_answer_cannot_be_stored_still_answers_and_keeps_a_non_repeatable_key_for_its_lease() -> (
    None
):
    clock = FixedClock(NOW)
    once = Once(
        _TableFailingCompletions(10**6), prefix="baton.inbound-sms", keep=timedelta(days=7), clock=clock
    )
    work = _Work()

    assert once.run({"key": "k-1"}, work) == {"answer": 1}
    with pytest.raises(InProgress):
        once.run({"key": "k-1"}, work)  # a redelivery meanwhile does not run it a second time

    assert work.runs == 1


def _dies() -> dict[str, Any]:
    raise RuntimeError("the invocation died mid-way")


def test_work_left_in_progress_without_a_lambda_context_is_taken_over_after_lambdas_longest_run() -> None:
    clock = FixedClock(NOW)
    once = Once(_TableThatCannotDelete(), prefix="baton.event", keep=timedelta(days=7), clock=clock)
    with pytest.raises(RuntimeError):
        once.run({"key": "k-1"}, _dies)
    with pytest.raises(InProgress):
        once.run({"key": "k-1"}, lambda: {"answer": 1})  # still within the bounded lease

    clock.set(NOW + MAX_LEASE + timedelta(seconds=1))

    assert once.run({"key": "k-1"}, lambda: {"answer": 1}) == {"answer": 1}
    assert once.run({"key": "k-1"}, lambda: {"answer": 2}) == {"answer": 1}  # answered from the store


class _Remaining:
    def get_remaining_time_in_millis(self) -> int:
        return 3_000


def test_a_lease_taken_under_a_lambda_context_ends_with_that_invocations_time() -> None:
    clock = FixedClock(NOW)
    once = Once(_TableThatCannotDelete(), prefix="baton.event", keep=timedelta(days=7), clock=clock)
    once.leases.register(_Remaining())
    with pytest.raises(RuntimeError):
        once.run({"key": "k-1"}, _dies)

    clock.set(NOW + timedelta(seconds=4))

    assert once.run({"key": "k-1"}, lambda: {"answer": 1}) == {"answer": 1}


def _client_error(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "SendEmail")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (_client_error("TooManyRequestsException", 429), ProviderThrottled),
        (_client_error("ServiceUnavailable", 503), ProviderUnavailable),
        (ConnectTimeoutError(endpoint_url=ENDPOINT), ProviderUnavailable),
        (EndpointConnectionError(endpoint_url=ENDPOINT), ProviderUnavailable),
        (_client_error("MessageRejected", 400), ProviderRejected),
        (ReadTimeoutError(endpoint_url=ENDPOINT), ProviderAmbiguous),
        (ConnectionClosedError(endpoint_url=ENDPOINT), ProviderAmbiguous),
        (_client_error("InternalFailure", 500), ProviderAmbiguous),
        (_client_error("BadGateway", 502), ProviderAmbiguous),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else value.__name__,
)
def test_failures_that_never_reached_the_provider_retry_and_those_that_may_have_are_ambiguous(
    error: Exception, expected: type[Exception]
) -> None:
    translated = translate(error, "ses")  # type: ignore[arg-type]

    assert type(translated) is expected


def test_the_end_user_messaging_context_keeps_the_message_id_when_the_tags_do_not_all_fit() -> None:
    tags = {"journey": "j", "step": "s", "execution": "arn", "pass": "1", "extra": "x", MESSAGE_TAG: "m-1"}
    message = OutboundMessage.phone(
        Channel.SMS,
        to="+14155550100",
        purpose=Purpose.TRANSACTIONAL,
        text="Shipped",
        topic="orders",
        tags=tags,
    )

    context = message_context(message)

    assert context[MESSAGE_TAG] == "m-1"
    assert len(context) == 5  # the service model's limit


def test_a_marketing_journey_cannot_opt_into_at_least_once() -> None:
    journey = {
        "journey": "promo",
        "owner": "growth@example.com",
        "purpose": "marketing",
        "topic": "news",
        "review_by": "2027-03-01",
        "trigger": {"event": "lead.created"},
        "steps": [
            {"id": "hello", "send": {"template": "hello", "channels": ["email"], "at_least_once": True}}
        ],
    }

    with pytest.raises(ValidationError, match="marketing is at most once"):
        Journey.model_validate(journey)

    journey["purpose"] = "transactional"
    journey.pop("topic")
    assert Journey.model_validate(journey).steps[0].send.at_least_once  # type: ignore[union-attr]
