"""The SES account's limits before every email (R-SES-1): quota, paused sending, the sandbox and
the maximum send rate. moto has no `GetAccount`, so botocore's Stubber answers SES against the
real service model; the pacing count is moto's DynamoDB, shared as Lambdas share it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest
from aws_lambda_powertools import Metrics
from botocore.stub import ANY, Stubber

from baton.clock import FixedClock
from baton.consent.service import ConsentService
from baton.consent.vocabulary import Channel
from baton.delivery.gate import Reason
from baton.delivery.message import OutboundMessage, Purpose
from baton.delivery.pacing import THROUGHPUT_REACHED, DynamoPaceLedger, Pacer
from baton.delivery.service import (
    MESSAGE_FAILED,
    MESSAGE_HELD,
    METRIC_HELD,
    METRIC_HELD_BY_PROVIDER,
    Dispatcher,
    Outcome,
)
from baton.delivery.ses import SesEmailAdapter
from baton.delivery.ses_account import (
    ACCOUNT_UNREADABLE,
    RECHECK_AFTER,
    SANDBOX_RECIPIENT_NOT_VERIFIED,
    SesAccount,
    SesLimits,
)
from baton.settings import Settings
from baton.suppression.service import SuppressionService
from baton.timeline.service import TimelineService
from tests.integration.journeys import REGION

SENDER = "news@acme.example"
CONTACT = "c-1"


def _account(
    *,
    sent: float = 0,
    quota: float = 50_000,
    rate: float = 14,
    production: bool = True,
    enabled: bool = True,
) -> dict[str, Any]:
    return {
        "SendQuota": {"Max24HourSend": quota, "MaxSendRate": rate, "SentLast24Hours": sent},
        "ProductionAccessEnabled": production,
        "SendingEnabled": enabled,
        "EnforcementStatus": "HEALTHY",
    }


def _email(to: str = "ana@example.com") -> OutboundMessage:
    return OutboundMessage.email(to=to, purpose=Purpose.TRANSACTIONAL, subject="Your receipt", text="Thanks!")


class Ses:
    """A stubbed SES v2 client and the dispatcher that sends through it, on a fixed clock."""

    def __init__(self, settings: Settings, clock: FixedClock, dispatcher_parts: tuple[Any, ...]) -> None:
        self.client: Any = boto3.client("sesv2", region_name=REGION)
        self.stubber = Stubber(self.client)
        self.clock = clock
        self.pauses: list[float] = []
        self.metrics = Metrics(namespace="BatonTest")
        self._settings = settings
        self._parts = dispatcher_parts
        # The wall clock moves while a Lambda waits; a virtual one (local mode) stands still.
        self.clock_moves = True
        self.dispatcher = self.another_sender()

    def another_sender(self) -> Dispatcher:
        """A dispatcher as another Lambda builds it: its own cache, the same pacing table."""
        pacer = Pacer(DynamoPaceLedger(self._settings.pacing_table), self.clock, pause=self._pause)
        limits = SesLimits(SesAccount(self.client, self.clock), pacer, self.clock)
        adapter = SesEmailAdapter(self.client, sender=SENDER, clock=self.clock, limits=limits)
        suppression, consent, timeline = self._parts
        return Dispatcher(
            {Channel.EMAIL: adapter}, suppression, consent, timeline, metrics=self.metrics, clock=self.clock
        )

    def _pause(self, seconds: float) -> None:
        self.pauses.append(seconds)
        if self.clock_moves:
            self.clock.set(self.clock.now() + timedelta(seconds=seconds))

    def account(self, **values: Any) -> None:
        self.stubber.add_response("get_account", _account(**values), {})

    def accepts(self, to: str, message_id: str) -> None:
        self.stubber.add_response(
            "send_email",
            {"MessageId": message_id},
            {
                "FromEmailAddress": SENDER,
                "Destination": {"ToAddresses": [to]},
                "Content": ANY,
                "EmailTags": ANY,
            },
        )

    def identity(self, name: str, *, verified: bool | None) -> None:
        if verified is None:
            self.stubber.add_client_error(
                "get_email_identity",
                "NotFoundException",
                http_status_code=404,
                expected_params={"EmailIdentity": name},
            )
        else:
            self.stubber.add_response(
                "get_email_identity",
                {"IdentityType": "DOMAIN", "VerifiedForSendingStatus": verified},
                {"EmailIdentity": name},
            )

    def counted(self, name: str) -> int:
        return len(self.metrics.metric_set.get(name, {}).get("Value", []))


@pytest.fixture
def ses(
    aws: Settings,
    clock: FixedClock,
    suppression: SuppressionService,
    consent: ConsentService,
    timeline: TimelineService,
) -> Iterator[Ses]:
    ses = Ses(aws, clock, (suppression, consent, timeline))
    with ses.stubber:
        yield ses
        ses.stubber.assert_no_pending_responses()
    ses.metrics.clear_metrics()


def test_r_ses_1_a_used_up_daily_quota_holds_the_email_without_asking_ses_to_send(
    ses: Ses, timeline: TimelineService
) -> None:
    ses.account(sent=200, quota=200, rate=1)  # no send_email answer: SES must not be asked

    result = ses.dispatcher.send(CONTACT, _email())

    assert (result.outcome, result.reason, result.rule) == (Outcome.HELD, Reason.SENDING_QUOTA, "R-SES-1")
    assert result.until == ses.clock.now() + RECHECK_AFTER
    latest = timeline.page(CONTACT).items[0]
    assert (latest.kind, latest.detail["reason"], latest.detail["rule"]) == (
        MESSAGE_HELD,
        "sending_quota",
        "R-SES-1",
    )
    assert ses.counted(METRIC_HELD) == ses.counted(METRIC_HELD_BY_PROVIDER) == 1


def test_r_ses_1_the_quota_counts_what_the_paced_account_may_have_sent_since_it_was_read(ses: Ses) -> None:
    # 49,980 of 50,000 sent a minute ago at 14 a second: up to 14 x 61 more may be out by now.
    ses.account(sent=49_980, quota=50_000, rate=14)
    ses.accepts("ana@example.com", "ses-1")

    assert ses.dispatcher.send(CONTACT, _email()).outcome == Outcome.SENT
    ses.clock.set(ses.clock.now() + timedelta(seconds=59))
    assert ses.dispatcher.send(CONTACT, _email()).reason == Reason.SENDING_QUOTA


def test_r_ses_1_an_account_whose_sending_is_paused_holds_the_email(ses: Ses) -> None:
    ses.account(enabled=False)

    result = ses.dispatcher.send(CONTACT, _email())

    assert (result.outcome, result.reason, result.rule) == (Outcome.HELD, Reason.SENDING_PAUSED, "R-SES-1")


def test_r_ses_1_a_sandbox_account_mails_verified_recipients_and_refuses_the_rest(
    ses: Ses, timeline: TimelineService
) -> None:
    ses.account(production=False, quota=200, rate=1)
    ses.identity("ana@verified.example", verified=None)
    ses.identity("verified.example", verified=True)  # the domain is verified: the address may get mail
    ses.accepts("ana@verified.example", "ses-1")
    ses.identity("bob@elsewhere.example", verified=None)
    ses.identity("elsewhere.example", verified=None)

    delivered = ses.dispatcher.send(CONTACT, _email("ana@verified.example"))
    ses.clock.set(ses.clock.now() + timedelta(seconds=1))
    refused = ses.dispatcher.send(CONTACT, _email("bob@elsewhere.example"))

    assert delivered.outcome == Outcome.SENT
    assert (refused.outcome, refused.error_code, refused.retryable) == (
        Outcome.FAILED,
        SANDBOX_RECIPIENT_NOT_VERIFIED,
        False,  # not retried: it fails the same way until the account leaves the sandbox
    )
    latest = timeline.page(CONTACT).items[0]
    assert (latest.kind, latest.detail["error_code"]) == (MESSAGE_FAILED, SANDBOX_RECIPIENT_NOT_VERIFIED)


def test_r_ses_1_the_maximum_send_rate_paces_emails_across_senders(ses: Ses) -> None:
    # given an account allowed 2 emails a second and two Lambdas sending at the same moment
    ses.clock.set(ses.clock.now().replace(microsecond=500_000))
    ses.account(rate=2)
    ses.accepts("ana@example.com", "ses-1")
    ses.account(rate=2)  # the other Lambda reads the account itself
    ses.accepts("ana@example.com", "ses-2")
    ses.accepts("ana@example.com", "ses-3")
    other = ses.another_sender()

    first = ses.dispatcher.send(CONTACT, _email())
    second = other.send(CONTACT, _email())
    third = ses.dispatcher.send(CONTACT, _email())

    # then the third waits for the next second instead of going out with the first two
    assert [first.outcome, second.outcome, third.outcome] == [Outcome.SENT] * 3
    assert ses.pauses == [0.5]


def test_r_ses_1_an_email_with_no_room_within_a_second_is_retried_later_not_sent(ses: Ses) -> None:
    ses.clock_moves = False  # so the waits do not free the next second
    ses.account(rate=1)
    ses.accepts("ana@example.com", "ses-1")
    ses.accepts("ana@example.com", "ses-2")

    sent = [ses.dispatcher.send(CONTACT, _email()) for _ in range(3)]

    # this second and the next are taken: SES is not called, and Step Functions retries it
    assert [result.outcome for result in sent] == [Outcome.SENT, Outcome.SENT, Outcome.FAILED]
    assert (sent[2].error_code, sent[2].retryable, sent[2].throttled) == (THROUGHPUT_REACHED, True, True)


def test_the_account_is_read_once_a_minute_not_once_an_email(ses: Ses) -> None:
    ses.account()
    ses.accepts("ana@example.com", "ses-1")
    ses.accepts("ana@example.com", "ses-2")
    ses.account()
    ses.accepts("ana@example.com", "ses-3")

    ses.dispatcher.send(CONTACT, _email())
    ses.clock.set(ses.clock.now() + timedelta(seconds=59))
    ses.dispatcher.send(CONTACT, _email())
    ses.clock.set(ses.clock.now() + timedelta(seconds=1))
    ses.dispatcher.send(CONTACT, _email())  # a minute after the read: read again first


def test_limits_that_cannot_be_read_keep_the_email_unsent_and_retryable(ses: Ses) -> None:
    ses.stubber.add_client_error("get_account", "TooManyRequestsException", http_status_code=429)

    result = ses.dispatcher.send(CONTACT, _email())

    assert (result.outcome, result.error_code, result.retryable) == (Outcome.FAILED, ACCOUNT_UNREADABLE, True)


def test_a_recent_read_stands_in_while_the_account_cannot_be_read(ses: Ses) -> None:
    ses.account()
    ses.accepts("ana@example.com", "ses-1")
    ses.stubber.add_client_error("get_account", "TooManyRequestsException", http_status_code=429)
    ses.accepts("ana@example.com", "ses-2")

    ses.dispatcher.send(CONTACT, _email())
    ses.clock.set(ses.clock.now() + timedelta(minutes=2))

    assert ses.dispatcher.send(CONTACT, _email()).outcome == Outcome.SENT
