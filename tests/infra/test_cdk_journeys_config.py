"""Journeys' deploy settings: the catalog in the Lambda asset, cdk.json's `delivery` block in
every function's environment, and the grant an operator's webhook secret needs."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Stack, assertions
from pydantic import ValidationError

from baton.data.tables import ALL_TABLES
from baton.settings import Settings
from infra import lambda_asset, names
from infra.config import STACK_SETTINGS, BatonConfig, runtime_settings_fields
from infra.lambda_function import function_environment
from infra.synth import ROOT, build_app, cdk_json_context

WEBHOOK_SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:baton-webhook-AbCdEf"


def _config(**delivery: Any) -> BatonConfig:
    return BatonConfig.model_validate({**cdk_json_context()["baton"], "delivery": delivery})


def _environment(config: BatonConfig) -> dict[str, str]:
    return function_environment(
        config,
        table_names={spec.id: f"baton-{spec.id}" for spec in ALL_TABLES},
        token_secret_arn="token",
        suppression_salt_secret_arn="salt",
        configuration_set_name="set",
        public_base_url="https://x.example.com",
        state_machine_arn_prefix="arn:aws:states:us-east-1:123456789012:stateMachine:Baton-",
    )


def test_bundling_ships_the_catalog_next_to_the_baton_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given pip succeeds (no wheelhouse needed for this), when the asset is bundled
    monkeypatch.setattr(
        lambda_asset.subprocess, "run", lambda *a, **k: subprocess.CompletedProcess(a, 0, "", "")
    )

    lambda_asset.LocalPipBundling().try_bundle(str(tmp_path))

    # then `journeys/` sits beside `baton/`, where BATON_JOURNEYS_DIR=journeys finds it
    assert (tmp_path / "baton" / "settings.py").is_file()
    shipped = {p.relative_to(tmp_path / "journeys") for p in (tmp_path / "journeys").rglob("*.yaml")}
    assert shipped == {p.relative_to(ROOT / "journeys") for p in (ROOT / "journeys").rglob("*.yaml")}
    assert names.ASSET_JOURNEYS_DIR == "journeys"


def test_delivery_settings_reach_the_environment_and_the_rest_keep_their_defaults() -> None:
    config = _config(
        quietHours="09:00-20:00",
        sms_origination_identity="pool-123",
        webhookTimeoutSeconds=2,
        whatsappMessagesPerSecond=250,
    )

    environment = _environment(config)

    assert environment["BATON_QUIET_HOURS"] == "09:00-20:00"
    assert environment["BATON_SMS_ORIGINATION_IDENTITY"] == "pool-123"
    assert environment["BATON_WEBHOOK_TIMEOUT_SECONDS"] == "2.0"
    assert environment["BATON_WHATSAPP_MESSAGES_PER_SECOND"] == "250.0"
    defaults = Settings.model_construct()
    assert json.loads(environment["BATON_FREQUENCY_CAPS"]) == defaults.frequency_caps


def test_a_deployments_own_sms_keywords_reach_every_functions_environment() -> None:
    config = _config(smsKeywords={"optOut": ["BASTA"]})

    environment = _environment(config)

    assert json.loads(environment["BATON_SMS_KEYWORDS"]) == {"optOut": ["BASTA"]}


def test_every_settings_field_has_its_variable() -> None:
    environment = _environment(_config())

    assert {names.settings_env(field) for field in Settings.model_fields} <= set(environment)
    assert set(runtime_settings_fields()).isdisjoint(STACK_SETTINGS)


@pytest.mark.parametrize(
    ("delivery", "words"),
    [
        ({"quietHourz": "09:00-20:00"}, "delivery.quietHourz is not a setting"),
        ({"contactsTable": "mine"}, "delivery.contactsTable is not a setting"),  # the stack's own
        ({"webhookTimeoutSeconds": "soon"}, "delivery.webhookTimeoutSeconds"),
        ({"whatsappMessagesPerSecond": 1001}, "delivery.whatsappMessagesPerSecond"),  # a field's bounds
    ],
)
def test_a_wrong_delivery_setting_fails_at_synth(delivery: dict[str, Any], words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        _config(**delivery)


def test_an_operators_webhook_secret_is_readable_by_the_journey_step_function(tmp_path: Path) -> None:
    app = build_app(
        outdir=str(tmp_path),
        bundling=False,
        context={"baton": {"delivery": {"webhookSecretArn": WEBHOOK_SECRET}}},
    )
    stack = app.node.find_child(cdk_json_context()["baton"]["stackName"])
    assert isinstance(stack, Stack)
    template = assertions.Template.from_stack(stack)

    (role_ref,) = [
        f["Properties"]["Role"]
        for f in template.find_resources("AWS::Lambda::Function").values()
        if f["Properties"]["Handler"] == names.HANDLERS[names.JOURNEY_STEP_FUNCTION]
    ]
    statements = [
        s
        for p in template.find_resources("AWS::IAM::Policy").values()
        if {"Ref": role_ref["Fn::GetAtt"][0]} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert any(
        "secretsmanager:GetSecretValue" in s["Action"] and WEBHOOK_SECRET in json.dumps(s["Resource"])
        for s in statements
    )


def test_the_review_policy_reaches_every_functions_settings() -> None:
    config = BatonConfig.model_validate(
        {**cdk_json_context()["baton"], "review": {"graceDays": 30, "closeOverdueMarketing": False}}
    )

    settings = Settings.model_validate(
        {
            name.removeprefix("BATON_").lower(): value
            for name, value in _environment(config).items()
            if name in {"BATON_REVIEW_GRACE_DAYS", "BATON_REVIEW_CLOSES_MARKETING"}
        }
    )

    assert (settings.review_grace_days, settings.review_closes_marketing) == (30, False)
    assert config.runtime_settings().review_grace_days == 30


def test_a_negative_grace_period_fails_at_synth() -> None:
    with pytest.raises(ValidationError, match=r"review\.graceDays|grace_days"):
        BatonConfig.model_validate({**cdk_json_context()["baton"], "review": {"graceDays": -1}})
