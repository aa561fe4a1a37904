"""What an SMS programme promises is what it does (R-CTIA-2, R-CTIA-3): the HELP reply and the
opt-in texts state the frequency the configured caps allow, in the contact's language."""

from __future__ import annotations

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sns.models import sns_backends

from baton.bootstrap import build
from baton.clock import FixedClock
from baton.contacts.models import ContactInput
from baton.inbound.models import InboundSms
from baton.inbound.service import InboundSmsService
from baton.settings import Settings

PHONE = "+5511912345678"


def _texts() -> list[str]:
    messages = sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sms_messages.values()
    return [text for number, text, *_ in messages if number == PHONE]


def _help(settings: Settings, clock: FixedClock, locale: str) -> str:
    boto3.client("sesv2").create_email_identity(EmailIdentity="example.com")
    services = build(settings, clock)
    services.contacts.upsert("ana", ContactInput(phone=PHONE, locale=locale))
    sms = InboundSms.model_validate(
        {
            "originationNumber": PHONE,
            "destinationNumber": "+15550100",
            "messageBody": "ajuda",
            "inboundMessageId": "in-1",
        }
    )
    InboundSmsService(services).handle(sms)
    (reply,) = _texts()
    return reply


def test_r_ctia_2_help_states_the_default_caps_frequency_in_portuguese(
    aws: Settings, clock: FixedClock
) -> None:
    reply = _help(Settings(), clock, "pt-BR")

    assert "Até 3 msgs/semana." in reply  # the default cap: 3 marketing messages in 7 days
    assert "msgs/month" not in reply


def test_r_ctia_2_help_states_a_deployments_stricter_cap(
    aws: Settings, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "BATON_FREQUENCY_CAPS",
        '[{"purpose": "marketing", "channel": null, "limit": 3, "days": 7},'
        ' {"purpose": "marketing", "channel": "sms", "limit": 2, "days": 30}]',
    )

    reply = _help(Settings(), clock, "en")

    assert "Up to 2 msgs/month." in reply
