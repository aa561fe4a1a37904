"""The dispatcher's frequency-cap count on the embedded AWS (the caps table in moto): a send takes
its place before the provider is called, gives it back when the provider did not take the
message, keeps it otherwise, and a retried send never takes a second place."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from types import MappingProxyType
from typing import Any, ClassVar

import boto3
import pytest
from aws_lambda_powertools import Metrics
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from baton import bootstrap
from baton.clock import FixedClock
from baton.consent.service import ConsentService
from baton.consent.vocabulary import Channel, Source
from baton.contacts.models import ContactInput
from baton.delivery.adapter import ChannelAdapter
from baton.delivery.caps import CONTENDED, CapCount, CapEntry, DynamoCapLedger
from baton.delivery.exceptions import ProviderRejected, ProviderUnavailable
from baton.delivery.gate import Reason, SentFact
from baton.delivery.message import MESSAGE_TAG, OutboundMessage, Purpose
from baton.delivery.service import MESSAGE_FAILED, Dispatcher, Outcome, SendContext
from baton.delivery.ses import SesEmailAdapter
from baton.privacy import erase_contact
from baton.settings import Settings
from baton.suppression.service import SuppressionService
from baton.timeline.service import TimelineService
from tests.integration.conftest import REGION, START, marketing_email

SENDER = "news@acme.example"
ANA = "ana@example.com"
EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:Baton-lead-nurture:lead-nurture-1"


class _Provider(ChannelAdapter):
    """SES, except that the next sends listed in `fail_with` fail the way a provider can."""

    channel: ClassVar[Channel] = Channel.EMAIL
    provider: ClassVar[str] = "ses"

    def __init__(self, ses: SesEmailAdapter) -> None:
        self._ses = ses
        self.fail_with: list[Exception] = []

    def send(self, message: OutboundMessage) -> str:
        if self.fail_with:
            raise self.fail_with.pop(0)
        return self._ses.send(message)


class _ContendedLedger(DynamoCapLedger):
    """Another send writes the count between every read and write of this one."""

    def replace(self, read: CapCount, entries: tuple[CapEntry, ...], expires_at: Any) -> bool:
        super().replace(read, read.entries, expires_at)  # the other send's write
        return super().replace(read, entries, expires_at)


@pytest.fixture
def provider(aws: Settings, clock: FixedClock) -> _Provider:
    sesv2: Any = boto3.client("sesv2", region_name=REGION)
    sesv2.create_email_identity(EmailIdentity="acme.example")
    return _Provider(SesEmailAdapter(sesv2, sender=SENDER, clock=clock))


@pytest.fixture
def ledger(aws: Settings) -> DynamoCapLedger:
    return DynamoCapLedger(aws.caps_table)


@pytest.fixture
def dispatch_with(
    provider: _Provider,
    suppression: SuppressionService,
    consent: ConsentService,
    timeline: TimelineService,
    clock: FixedClock,
) -> Callable[[DynamoCapLedger], Dispatcher]:
    """A dispatcher over SES and the given cap ledger, for a contact who may get the newsletter."""
    consent.grant("c-1", Channel.EMAIL, "news", source=Source.AGENT, address=ANA)

    def make(ledger: DynamoCapLedger) -> Dispatcher:
        adapters: dict[Channel, ChannelAdapter] = {Channel.EMAIL: provider}
        metrics = Metrics(namespace="BatonTest")
        return Dispatcher(adapters, suppression, consent, timeline, metrics=metrics, clock=clock, caps=ledger)

    return make


@pytest.fixture
def dispatcher(dispatch_with: Callable[[DynamoCapLedger], Dispatcher], ledger: DynamoCapLedger) -> Dispatcher:
    return dispatch_with(ledger)


def _newsletter() -> OutboundMessage:
    return marketing_email(ANA)


def _step(number: int, recent: tuple[SentFact, ...] = ()) -> SendContext:
    return SendContext(
        recent_sends=recent, labels={"journey": "lead-nurture", "step": f"s{number}", "execution": EXECUTION}
    )


def _emails() -> int:
    return len(ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages)


def _places(ledger: DynamoCapLedger) -> int:
    return len(ledger.read("c-1", Purpose.MARKETING).entries)


def test_a_send_the_provider_rejected_gives_its_place_in_the_cap_back(
    dispatcher: Dispatcher, provider: _Provider, ledger: DynamoCapLedger
) -> None:
    # given two sends out and a third the provider rejects
    assert all(dispatcher.send("c-1", _newsletter(), _step(n)).sent for n in (1, 2))
    provider.fail_with = [ProviderRejected("ses", "MessageRejected")]
    rejected = dispatcher.send("c-1", _newsletter(), _step(3))

    # then the rejected one counts for nothing: the next send is the third, the one after is capped
    third = dispatcher.send("c-1", _newsletter(), _step(4))
    fourth = dispatcher.send("c-1", _newsletter(), _step(5))

    assert rejected.outcome == Outcome.FAILED
    assert third.sent
    assert (fourth.outcome, fourth.reason) == (Outcome.REFUSED, Reason.FREQUENCY_CAP)
    assert _emails() == 3
    assert _places(ledger) == 3


def test_a_throttled_send_retried_by_step_functions_takes_one_place_not_two(
    dispatcher: Dispatcher, provider: _Provider, ledger: DynamoCapLedger
) -> None:
    provider.fail_with = [ProviderUnavailable("ses", "Throttling")]

    first = dispatcher.send("c-1", _newsletter(), _step(1))
    retried = dispatcher.send("c-1", _newsletter(), _step(1))

    assert (first.outcome, first.retryable, retried.outcome) == (Outcome.FAILED, True, Outcome.SENT)
    assert _places(ledger) == 1


def test_each_pass_of_a_looping_send_step_takes_its_own_place_in_the_cap(
    dispatcher: Dispatcher, ledger: DynamoCapLedger
) -> None:
    # given one execution passing four times through the same send step (a loop), each pass
    # its own message (the runner tags each with its own Baton message id)
    def pass_message(number: int) -> OutboundMessage:
        return replace(_newsletter(), tags=MappingProxyType({MESSAGE_TAG: f"pass-{number}"}))

    results = [dispatcher.send("c-1", pass_message(n), _step(1)) for n in (1, 2, 3, 4)]

    # then the cap (3 per 7 days) lets three out and refuses the fourth
    assert [r.outcome for r in results] == [Outcome.SENT] * 3 + [Outcome.REFUSED]
    assert results[3].reason == Reason.FREQUENCY_CAP
    assert _places(ledger) == 3


def test_a_send_of_unknown_fate_keeps_its_place_and_its_retry_reuses_it(
    dispatcher: Dispatcher, provider: _Provider, ledger: DynamoCapLedger
) -> None:
    # given two sends out and a third whose process stopped while the provider was called
    assert all(dispatcher.send("c-1", _newsletter(), _step(n)).sent for n in (1, 2))
    provider.fail_with = [TimeoutError("the invocation ran out of time mid-send")]
    with pytest.raises(TimeoutError):
        dispatcher.send("c-1", _newsletter(), _step(3))

    # then its place is kept (it may have gone out): another send is capped, its own retry is not
    other = dispatcher.send("c-1", _newsletter(), _step(4))
    retried = dispatcher.send("c-1", _newsletter(), _step(3))

    assert (other.outcome, other.reason) == (Outcome.REFUSED, Reason.FREQUENCY_CAP)
    assert retried.sent
    assert _places(ledger) == 3


def test_the_cap_counts_sends_on_the_timeline_from_before_the_count_was_kept(
    dispatcher: Dispatcher, clock: FixedClock
) -> None:
    earlier = tuple(SentFact(Channel.EMAIL, Purpose.MARKETING, START - timedelta(days=day)) for day in (1, 2))
    older = SentFact(Channel.EMAIL, Purpose.MARKETING, START - timedelta(days=8))  # outside the week

    first = dispatcher.send("c-1", _newsletter(), _step(1, (*earlier, older)))
    second = dispatcher.send("c-1", _newsletter(), _step(2, (*earlier, older)))

    assert first.sent
    assert (second.outcome, second.reason) == (Outcome.REFUSED, Reason.FREQUENCY_CAP)


def test_a_count_that_keeps_changing_under_a_send_fails_it_for_a_retry_and_sends_nothing(
    dispatch_with: Callable[[DynamoCapLedger], Dispatcher], aws: Settings, timeline: TimelineService
) -> None:
    dispatcher = dispatch_with(_ContendedLedger(aws.caps_table))

    result = dispatcher.send("c-1", _newsletter(), _step(1))

    assert (result.outcome, result.error_code, result.retryable, result.throttled) == (
        Outcome.FAILED,
        CONTENDED,
        True,
        True,
    )
    assert _emails() == 0
    assert timeline.page("c-1").items[0].kind == MESSAGE_FAILED


def test_transactional_sends_take_no_place_in_the_cap(
    dispatcher: Dispatcher, ledger: DynamoCapLedger
) -> None:
    receipt = OutboundMessage.email(to=ANA, purpose=Purpose.TRANSACTIONAL, subject="Receipt", text="Paid.")

    assert all(dispatcher.send("c-1", receipt, _step(n)).sent for n in range(5))
    assert ledger.read("c-1", Purpose.TRANSACTIONAL).version == 0
    assert _places(ledger) == 0


def test_erasure_removes_the_contacts_cap_count(
    dispatcher: Dispatcher, ledger: DynamoCapLedger, aws: Settings, clock: FixedClock
) -> None:
    services = bootstrap.build(aws, clock)
    services.contacts.upsert("c-1", ContactInput(email=ANA))
    assert dispatcher.send("c-1", _newsletter(), _step(1)).sent

    report = erase_contact(services, "c-1")

    assert report.cap_counts_removed == 1
    assert ledger.read("c-1", Purpose.MARKETING) == CapCount("c-1", Purpose.MARKETING)


def test_the_timeline_is_read_only_to_seed_a_count_not_kept_yet(dispatcher: Dispatcher) -> None:
    # given a contact whose earlier sends are known only from the timeline
    reads: list[int] = []
    earlier = (SentFact(Channel.EMAIL, Purpose.MARKETING, START - timedelta(days=1)),)

    def read_timeline() -> tuple[SentFact, ...]:
        reads.append(1)
        return earlier

    def step(number: int) -> SendContext:
        return replace(_step(number), read_recent_sends=read_timeline)

    # when three sends go out, then a fourth is decided
    outcomes = [dispatcher.send("c-1", _newsletter(), step(n)).outcome for n in (1, 2, 3)]

    # then the first seeded the count from the timeline and the others read the count alone
    # (the cap is 3 in 7 days: the earlier send and two new ones fill it)
    assert outcomes == [Outcome.SENT, Outcome.SENT, Outcome.REFUSED]
    assert len(reads) == 1
