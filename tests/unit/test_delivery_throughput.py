"""R-EUM-1's rates by origination identity type, read from configuration or from the number,
WhatsApp's messages per second per sending number, and the SES quota's margin for what the
account may have sent since it was read (R-SES-1)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from baton.bootstrap import build
from baton.clock import SystemClock
from baton.delivery.ses_account import AccountLimits, Verdict, admit
from baton.delivery.throughput import (
    IdentityType,
    OriginationIdentity,
    Rate,
    derived_type,
    identity_rate,
    parse_identities,
)
from baton.floors import looser_settings
from baton.settings import Settings
from infra.cli import read_config
from infra.config import BatonConfig
from infra.synth import cdk_json_context

READ_AT = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("identity", "kind"),
    [
        ("+18885550100", IdentityType.US_TOLL_FREE),
        ("+12065550100", IdentityType.US_10DLC),
        ("+14165550100", IdentityType.CA_LONG_CODE),  # Toronto
        ("+5511912345678", IdentityType.LONG_CODE),
        ("pool-0123456789abcdef", None),  # a pool names no number
        ("arn:aws:sms-voice:us-east-1:111122223333:phone-number/phone-0a1b", None),
    ],
)
def test_r_eum_1_the_type_is_read_from_the_number_where_it_shows(
    identity: str, kind: IdentityType | None
) -> None:
    assert derived_type(identity) == kind


@pytest.mark.parametrize(
    ("identity", "configured", "rate"),
    [
        ("+18885550100", {}, Rate(3)),
        ("+12065550100", {}, Rate(1)),
        ("+5511912345678", {}, Rate(10)),
        ("pool-0a1b", {}, Rate(1)),  # unknown: the slowest
        ("pool-0a1b", {"pool-0a1b": {"type": "us_short_code"}}, Rate(100)),
        ("pool-0a1b", {"pool-0a1b": {"type": "us_short_code", "partsPerSecond": 20.7}}, Rate(20)),
        ("+12065550100", {"+12065550100": {"type": "us_10dlc", "partsPerSecond": 0.25}}, Rate(1, 4)),
    ],
)
def test_r_eum_1_parts_per_second_by_identity(identity: str, configured: dict[str, Any], rate: Rate) -> None:
    assert identity_rate(identity, parse_identities(configured)) == rate


def test_a_bad_identity_entry_is_named_by_its_key() -> None:
    with pytest.raises(ValueError, match=r"pool-0a1b\.type"):
        parse_identities({"pool-0a1b": {"type": "carrier_pigeon"}})


@pytest.mark.parametrize(
    ("entry", "why"),
    [
        ({"type": "us_short_code"}, "is a us_10dlc number"),  # a 10DLC number paced as a short code
        ({"type": "us_10dlc", "partsPerSecond": 2}, "faster than 1 for a us_10dlc"),
    ],
)
def test_r_eum_1_configuration_faster_than_the_rulebook_is_refused_with_key_and_rule(
    entry: dict[str, Any], why: str
) -> None:
    settings = Settings(origination_identities={"+12065550100": entry})

    (looser,) = looser_settings(settings)

    assert looser.key("baton.delivery") == "baton.delivery.originationIdentities.+12065550100"
    assert looser.rule == "R-EUM-1"
    assert why in looser.message
    with pytest.raises(ValueError, match="R-EUM-1"):
        build(settings, SystemClock())  # the cold start refuses it too
    deploy = {**cdk_json_context()["baton"], "delivery": {"originationIdentities": {"+12065550100": entry}}}
    with pytest.raises(
        ValidationError, match=r"baton\.delivery\.originationIdentities\.\+12065550100.*R-EUM-1"
    ):
        BatonConfig.model_validate(deploy)  # and synth


def test_r_eum_1_configuration_slower_than_the_rulebook_is_accepted() -> None:
    settings = Settings(
        origination_identities={
            "+12065550100": {"type": "us_10dlc", "partsPerSecond": 0.5},
            "pool-0a1b": {"type": "us_short_code"},  # nothing to read its type from: trusted
            "+18885550100": {"type": "us_10dlc"},  # a toll-free number paced as 10DLC: slower
        }
    )

    assert looser_settings(settings) == []
    assert parse_identities(settings.origination_identities)["pool-0a1b"] == OriginationIdentity(
        type=IdentityType.US_SHORT_CODE
    )


def test_whatsapp_is_paced_at_metas_default_of_80_messages_a_second_per_number() -> None:
    assert Rate.per_second(Settings().whatsapp_messages_per_second) == Rate(80)


@pytest.mark.parametrize(
    ("configured", "rate"),
    [
        ("1000", Rate(1000)),  # a number Meta has upgraded to its highest tier
        ("250", Rate(250)),
        ("0.5", Rate(1, 2)),  # slower than Meta allows: one message every two seconds
    ],
)
def test_a_deployment_sets_its_whatsapp_numbers_rate(
    monkeypatch: pytest.MonkeyPatch, configured: str, rate: Rate
) -> None:
    monkeypatch.setenv("BATON_WHATSAPP_MESSAGES_PER_SECOND", configured)

    assert Rate.per_second(Settings().whatsapp_messages_per_second) == rate


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (0, "greater than 0"),
        (-80, "greater than 0"),
        (1001, "less than or equal to 1000"),  # above Meta's highest throughput tier
        ("fast", "valid number"),
    ],
)
def test_a_whatsapp_rate_outside_metas_tiers_is_refused_naming_its_key(
    tmp_path: Path, value: object, why: str
) -> None:
    with pytest.raises(ValidationError, match=why):
        Settings.model_validate({"whatsapp_messages_per_second": value})  # the cold start
    deploy = {**cdk_json_context()["baton"], "delivery": {"whatsappMessagesPerSecond": value}}
    refused = rf"delivery\.whatsappMessagesPerSecond: Input should be .*{why}"
    with pytest.raises(ValidationError, match=refused):
        BatonConfig.model_validate(deploy)  # synth
    cdk_json = tmp_path / "cdk.json"
    cdk_json.write_text(json.dumps({"context": {"baton": deploy}}), encoding="utf-8")
    config, (issue,) = read_config(cdk_json)  # `baton validate`
    assert config is None
    assert issue.startswith(f"{cdk_json}: baton.delivery")
    assert "delivery.whatsappMessagesPerSecond: Input should be" in issue


def _limits(*, sent: float, quota: float = 50_000, rate: float = 14, enabled: bool = True) -> AccountLimits:
    return AccountLimits(
        max_24_hour_send=quota,
        max_send_rate=rate,
        sent_last_24_hours=sent,
        production_access=True,
        sending_enabled=enabled,
        read_at=READ_AT,
    )


@pytest.mark.parametrize(
    ("sent", "seconds_since_read", "verdict"),
    [
        (49_985, 0, Verdict.SEND),  # 49,985 + 14 (this second) + 1 = 50,000
        (49_986, 0, Verdict.QUOTA),
        (49_000, 60, Verdict.SEND),  # a minute on: up to 14 x 61 = 854 more may be out
        (49_200, 60, Verdict.QUOTA),
    ],
)
def test_r_ses_1_the_quota_is_never_passed_by_what_went_out_since_the_read(
    sent: float, seconds_since_read: int, verdict: Verdict
) -> None:
    assert admit(_limits(sent=sent), READ_AT + timedelta(seconds=seconds_since_read)) == verdict


def test_r_ses_1_an_unlimited_quota_and_a_paused_account() -> None:
    assert admit(_limits(sent=10**9, quota=-1), READ_AT) == Verdict.SEND
    assert admit(_limits(sent=0, enabled=False), READ_AT) == Verdict.PAUSED
