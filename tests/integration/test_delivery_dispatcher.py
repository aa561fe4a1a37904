"""The dispatcher on the embedded AWS, wired to the real consent, suppression and timeline
services (DynamoDB in moto) and SES v2: refusals and sends both end up on the timeline."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_lambda_powertools import Metrics
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from baton.clock import FixedClock
from baton.consent.service import ConsentService
from baton.consent.vocabulary import Channel, Source
from baton.delivery.gate import Reason
from baton.delivery.message import OutboundMessage, Purpose
from baton.delivery.service import MESSAGE_REFUSED, MESSAGE_SENT, Dispatcher, Outcome
from baton.delivery.ses import SesEmailAdapter
from baton.messages import confirmation_email
from baton.settings import Settings
from baton.suppression.models import SuppressionReason
from baton.suppression.service import SuppressionService
from baton.timeline.service import TimelineService
from tests.integration.conftest import marketing_email

REGION = "us-east-1"
SENDER = "news@acme.example"
ANA = "ana@example.com"
UNSUBSCRIBE = "https://api.example/v1/unsubscribe/tok.sig"


@pytest.fixture
def dispatcher(
    aws: Settings,
    suppression: SuppressionService,
    consent: ConsentService,
    timeline: TimelineService,
    clock: FixedClock,
) -> Iterator[Dispatcher]:
    sesv2: Any = boto3.client("sesv2", region_name=REGION)
    sesv2.create_email_identity(EmailIdentity="acme.example")
    metrics = Metrics(namespace="BatonTest")
    adapters = {Channel.EMAIL: SesEmailAdapter(sesv2, sender=SENDER, clock=clock)}
    yield Dispatcher(adapters, suppression, consent, timeline, metrics=metrics, clock=clock)
    metrics.clear_metrics()


def _sent_raw() -> list[str]:
    return [message.raw_data for message in ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages]


def _newsletter() -> OutboundMessage:
    return marketing_email(ANA)


def test_r_mbx_3_unsubscribed_address_is_refused_and_the_refusal_is_on_the_timeline(
    dispatcher: Dispatcher,
    consent: ConsentService,
    suppression: SuppressionService,
    timeline: TimelineService,
) -> None:
    consent.grant("c-1", Channel.EMAIL, "news", source=Source.AGENT, address=ANA)
    suppression.add(Channel.EMAIL, ANA, SuppressionReason.OPT_OUT, "link")

    result = dispatcher.send("c-1", _newsletter())

    assert (result.outcome, result.reason) == (Outcome.REFUSED, Reason.SUPPRESSED)
    assert _sent_raw() == []
    latest = timeline.page("c-1").items[0]
    assert latest.kind == MESSAGE_REFUSED
    assert latest.detail["reason"] == "suppressed"


def test_r_gdpr_1_marketing_email_with_granted_consent_is_sent_and_recorded_with_the_ses_id(
    dispatcher: Dispatcher, consent: ConsentService, timeline: TimelineService
) -> None:
    consent.grant("c-1", Channel.EMAIL, "news", source=Source.AGENT, address=ANA)

    result = dispatcher.send("c-1", _newsletter())

    assert result.sent
    [raw] = _sent_raw()
    assert f"List-Unsubscribe: <{UNSUBSCRIBE}>" in raw
    latest = timeline.page("c-1").items[0]
    assert latest.kind == MESSAGE_SENT
    assert latest.detail["provider_message_id"] == result.provider_message_id
    assert latest.detail["subject"] == "May news"


def test_r_mbx_5_double_opt_in_email_goes_to_the_pending_address_only(
    dispatcher: Dispatcher, consent: ConsentService
) -> None:
    consent.request("c-1", Channel.EMAIL, "news", ANA)
    content = confirmation_email(
        locale="pt-BR",
        brand="Acme",
        confirm_url="https://api.example/v1/confirm/tok.sig",
        postal_address="Rua A, 1",
        valid_days=7,
    )

    def confirmation(to: str) -> OutboundMessage:
        return OutboundMessage.email(
            to=to,
            purpose=Purpose.CONFIRMATION,
            subject=content.subject,
            text=content.text,
            html=content.html,
            topic="news",
        )

    assert dispatcher.send("c-1", confirmation(ANA)).sent
    assert (
        dispatcher.send("c-1", confirmation("someone@else.example")).reason
        == Reason.CONSENT_FOR_OTHER_ADDRESS
    )
    assert len(_sent_raw()) == 1
