"""Which channels a deployment can use, and its send rules, come from Settings (cdk.json)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from baton.bootstrap import ProviderLimits, delivery_adapters, gate_policy
from baton.clock import SystemClock
from baton.consent.vocabulary import Channel
from baton.delivery import defaults
from baton.delivery.eum import EumSmsAdapter
from baton.delivery.message import Purpose
from baton.delivery.pacing import DynamoPaceLedger, Pacer
from baton.delivery.ses_account import SesAccount, SesLimits
from baton.delivery.sns import SnsSmsAdapter
from baton.delivery.timing import DailyWindow
from baton.delivery.voice import EumVoiceAdapter
from baton.delivery.webhook import WebhookAdapter
from baton.delivery.whatsapp import WhatsAppAdapter
from baton.floors import looser_settings
from baton.settings import Settings


def _clients(service: str) -> Any:
    return f"client:{service}"  # stands in for a boto3 client: nothing is called here


def _limits() -> ProviderLimits:
    clock = SystemClock()
    pacer = Pacer(DynamoPaceLedger("baton-pacing", client=_clients("dynamodb")), clock)
    return ProviderLimits(pacer, SesLimits(SesAccount(_clients("sesv2"), clock), pacer, clock))


def test_by_default_email_and_sms_through_sns_and_nothing_else() -> None:
    adapters = delivery_adapters(Settings(), SystemClock(), _clients, _limits())

    assert set(adapters) == {Channel.EMAIL, Channel.SMS}
    assert isinstance(adapters[Channel.SMS], SnsSmsAdapter)


def test_configured_identities_turn_on_end_user_messaging_voice_whatsapp_and_webhook() -> None:
    settings = Settings(
        sms_origination_identity="pool-123",
        voice_origination_identity="+18005550100",
        whatsapp_phone_number_id="phone-number-id-0123",
        webhook_url="https://hooks.example.com/baton",
    )

    adapters = delivery_adapters(settings, SystemClock(), _clients, _limits())

    assert isinstance(adapters[Channel.SMS], EumSmsAdapter)
    assert isinstance(adapters[Channel.VOICE], EumVoiceAdapter)
    assert isinstance(adapters[Channel.WHATSAPP], WhatsAppAdapter)
    assert isinstance(adapters[Channel.WEBHOOK], WebhookAdapter)


def test_a_plain_http_webhook_to_another_host_is_refused_at_start_up() -> None:
    with pytest.raises(ValueError, match="webhook URL"):
        delivery_adapters(
            Settings(webhook_url="http://hooks.example.com/baton"), SystemClock(), _clients, _limits()
        )


def test_the_default_rules_are_the_rulebooks() -> None:
    policy = gate_policy(Settings())

    assert policy.quiet_hours == DailyWindow.parse("08:00-21:00")  # R-TCPA-2
    (cap,) = policy.frequency_caps
    assert (cap.purpose, cap.channel, cap.limit, cap.period) == (
        Purpose.MARKETING,
        None,
        3,
        timedelta(days=7),
    )
    brazil = policy.calling_windows["BR"]  # R-BR-1
    assert brazil.on(date(2026, 5, 4)) == DailyWindow.parse("09:00-21:00")  # Monday
    assert brazil.on(date(2026, 5, 10)) is None  # Sunday
    assert brazil.on(date(2026, 9, 7)) is None  # Independence Day


def test_operators_configure_stricter_rules() -> None:
    settings = Settings(
        quiet_hours="09:00-20:00",
        quiet_hours_by_country={"us": "10:00-19:00"},
        frequency_caps=[
            {"purpose": "marketing", "channel": None, "limit": 2, "days": 7},
            {"purpose": "marketing", "channel": "sms", "limit": 1, "days": 1},
        ],
        calling_windows={"BR": {"mon-fri": "10:00-18:00"}},
        calling_holidays={"BR": [*defaults.CALLING_HOLIDAYS["BR"], "easter-48", "2026-06-04"]},
    )

    assert looser_settings(settings) == []
    policy = gate_policy(settings)

    assert policy.quiet_hours_by_country["US"] == DailyWindow.parse("10:00-19:00")
    assert [(cap.channel, cap.limit) for cap in policy.frequency_caps] == [(None, 2), (Channel.SMS, 1)]
    assert policy.calling_windows["BR"].on(date(2026, 2, 16)) is None  # Carnival Monday, added
    assert policy.calling_windows["BR"].on(date(2026, 6, 4)) is None  # Corpus Christi 2026, added
    assert policy.calling_windows["BR"].on(date(2026, 5, 9)) is None  # Saturdays are off now


@pytest.mark.parametrize(
    "settings",
    [
        {"quiet_hours": "07:30-21:00"},
        {"quiet_hours_by_country": {"BR": "08:00-22:00"}},
        {"default_timezone": "Mars/Olympus"},
        {"frequency_caps": [{"purpose": "marketing", "limit": 3, "days": 0}]},
    ],
)
def test_looser_or_broken_rules_fail_at_cold_start_not_at_the_first_send(settings: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 (each case has its own message)
        gate_policy(Settings.model_validate(settings))
