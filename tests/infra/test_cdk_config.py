"""The `baton` context of cdk.json: validated once, with errors that name the setting."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from baton.settings import Settings
from infra import names
from infra.config import BatonConfig
from infra.synth import cdk_json_context


def _settings(**overrides: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {**cdk_json_context()["baton"], **overrides}
    return settings


def test_cdk_json_settings_are_valid() -> None:
    config = BatonConfig.model_validate(_settings())

    assert config.sender_domain == "example.com"
    assert config.origins == ["https://www.example.com"]


def test_an_unknown_setting_is_rejected_by_name() -> None:
    with pytest.raises(ValidationError, match="senderEmial"):
        BatonConfig.model_validate(_settings(senderEmial="typo@example.com"))


def test_log_retention_must_be_a_cloudwatch_period() -> None:
    with pytest.raises(ValidationError, match="logRetentionDays"):
        BatonConfig.model_validate(_settings(logRetentionDays=31))


def test_sender_email_must_be_an_address() -> None:
    with pytest.raises(ValidationError, match="senderEmail"):
        BatonConfig.model_validate(_settings(senderEmail="not-an-address"))


def test_public_base_url_loses_its_trailing_slash() -> None:
    config = BatonConfig.model_validate(_settings(publicBaseUrl="https://go.example.com/"))

    assert config.public_base_url == "https://go.example.com"


def test_runtime_defaults_match_the_lambda_settings_defaults() -> None:
    # given cdk.json leaves them out, then functions get what Settings would default to
    config = BatonConfig.model_validate(_settings())
    defaults = Settings()

    assert config.token_ttl_days == defaults.token_ttl_days
    assert config.confirm_ttl_days == defaults.confirm_ttl_days
    assert config.max_body_bytes == defaults.max_body_bytes


@pytest.mark.parametrize("key", ["brandName", "postalAddress", "supportUrl"])
def test_r_casl_2_a_deployment_names_its_sender_a_mailing_address_and_a_way_to_reach_it(key: str) -> None:
    # Messages name the brand (From, texts), show the postal address (marketing email) and the
    # support URL (HELP, email footers): a deployment without one of them does not synthesize.
    missing = _settings()
    del missing[key]
    with pytest.raises(ValidationError, match=key):
        BatonConfig.model_validate(missing)
    with pytest.raises(ValidationError, match=key):
        BatonConfig.model_validate(_settings(**{key: ""}))


def test_tracking_is_off_unless_cdk_json_turns_it_on() -> None:
    tracking = BatonConfig.model_validate(_settings()).tracking

    assert (tracking.opens, tracking.clicks, tracking.redirect_domain) == (False, False, None)


def test_an_unknown_tracking_setting_is_rejected_by_name() -> None:
    with pytest.raises(ValidationError, match=r"tracking\.open\b"):
        BatonConfig.model_validate(_settings(tracking={"open": True}))


def test_a_tracking_redirect_domain_is_a_host_name_and_needs_tracking_on() -> None:
    with pytest.raises(ValidationError, match="redirectDomain"):
        BatonConfig.model_validate(
            _settings(tracking={"clicks": True, "redirectDomain": "https://track.example.com"})
        )
    with pytest.raises(ValidationError, match="redirectDomain is used only when opens or clicks is on"):
        BatonConfig.model_validate(_settings(tracking={"redirectDomain": "track.example.com"}))

    tracking = BatonConfig.model_validate(
        _settings(tracking={"clicks": True, "redirectDomain": "track.example.com"})
    ).tracking
    assert tracking.redirect_domain == "track.example.com"


def test_inventory_owners_of_built_in_messages_reach_the_functions_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given an owner and a review date for the HELP reply
    inventory = {
        "knownOwners": ["sms@example.com"],
        "builtIn": {"builtin/sms-help": {"owner": "sms@example.com", "reviewBy": "2027-01-01"}},
    }
    config = BatonConfig.model_validate(_settings(inventory=inventory))

    # then the functions read them back as the stack writes them into their environment
    monkeypatch.setenv(names.settings_env("inventory"), config.inventory.model_dump_json(by_alias=True))
    settings = Settings()
    ownership = next(iter(settings.inventory.built_in.values()))
    assert ownership.owner == "sms@example.com"
    assert str(ownership.review_by) == "2027-01-01"
    assert settings.inventory.failing_rate == 0.05


@pytest.mark.parametrize(
    ("inventory", "named"),
    [
        ({"builtIn": {"builtin/no-such-message": {"owner": "a@example.com"}}}, "builtin/no-such-message"),
        ({"failingRate": 2}, "failingRate"),
        ({"builtIn": {"builtin/sms-help": {"reviewBy": "soon"}}}, "reviewBy"),
        ({"knownOwner": []}, "knownOwner"),
    ],
)
def test_a_bad_inventory_setting_is_rejected_by_name(inventory: dict[str, Any], named: str) -> None:
    with pytest.raises(ValidationError, match=named):
        BatonConfig.model_validate(_settings(inventory=inventory))
