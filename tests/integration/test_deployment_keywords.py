"""A deployment's own SMS keywords (cdk.json `delivery.smsKeywords`, in every function's
environment) are the ones the inbound handler hears: added words work, the rulebook's stay."""

from __future__ import annotations

import boto3
import pytest

from baton.bootstrap import Services, build
from baton.clock import FixedClock
from baton.consent.vocabulary import Channel, ConsentStatus
from baton.inbound.models import InboundSms
from baton.inbound.service import InboundSmsService
from baton.settings import Settings
from baton.sms.keywords import InboundKeyword
from baton.subscriptions.models import Caller, SubscriptionRequest
from baton.subscriptions.service import SubscriptionService

PHONE = "+5511912345678"
BROWSER = Caller(ip="203.0.113.7", user_agent="Mozilla/5.0 (test)")


def _sms(body: str, message_id: str) -> InboundSms:
    return InboundSms.model_validate(
        {
            "originationNumber": PHONE,
            "destinationNumber": "+15550100",
            "messageBody": body,
            "inboundMessageId": message_id,
        }
    )


def _news(services: Services, contact_id: str) -> ConsentStatus | None:
    state = services.consent.state(contact_id, Channel.SMS, "news")
    return state.status if state else None


def _subscribed(services: Services) -> str:
    request = SubscriptionRequest.model_validate(
        {
            "phone": PHONE,
            "channels": ["sms"],
            "topics": ["news"],
            "locale": "pt-BR",
            "consent_text": "Quero receber novidades por SMS.",
        }
    )
    contact_id = SubscriptionService(services).subscribe(request, BROWSER).contact_id
    InboundSmsService(services).handle(_sms("SIM", "in-yes"))
    assert _news(services, contact_id) == ConsentStatus.GRANTED
    return contact_id


def _services(aws: Settings, clock: FixedClock) -> Services:
    boto3.client("sesv2").create_email_identity(EmailIdentity="example.com")
    return build(Settings(), clock)  # read from the environment, as a function does


@pytest.fixture
def basta(aws: Settings, clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> Services:
    """A deployment that adds BASTA to the opt-out words (cdk.json `delivery.smsKeywords`)."""
    monkeypatch.setenv("BATON_SMS_KEYWORDS", '{"optOut": ["BASTA"]}')
    return _services(aws, clock)


def test_an_opt_out_word_the_deployment_adds_revokes_and_suppresses(basta: Services) -> None:
    services = basta
    contact_id = _subscribed(services)

    result = InboundSmsService(services).handle(_sms("Basta!", "in-stop"))

    assert result.keyword == InboundKeyword.OPT_OUT
    assert _news(services, contact_id) == ConsentStatus.REVOKED
    assert services.suppression.check(Channel.SMS, PHONE) is not None


def test_without_the_deployments_word_the_same_text_is_only_a_reply(aws: Settings, clock: FixedClock) -> None:
    services = _services(aws, clock)
    contact_id = _subscribed(services)

    result = InboundSmsService(services).handle(_sms("Basta!", "in-stop"))

    assert result.keyword == InboundKeyword.OTHER
    assert _news(services, contact_id) == ConsentStatus.GRANTED


def test_the_rulebooks_words_still_revoke_when_a_deployment_adds_its_own(basta: Services) -> None:
    services = basta
    contact_id = _subscribed(services)

    InboundSmsService(services).handle(_sms("descadastrar", "in-stop"))  # R-CTIA-1

    assert _news(services, contact_id) == ConsentStatus.REVOKED
