"""Every Lambda: its handler, runtime, tracing, logs, the Settings environment and its permissions."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Stack, assertions

from baton.settings import Settings
from infra import names
from infra.synth import build_app, cdk_json_context

FUNCTION = "AWS::Lambda::Function"


def _function(template: assertions.Template, function_id: str) -> Mapping[str, Any]:
    functions = template.find_resources(FUNCTION, {"Properties": {"Handler": names.HANDLERS[function_id]}})
    (function,) = functions.values()
    return function


def _policy_statements(template: assertions.Template, function_id: str) -> list[dict[str, Any]]:
    """Every statement of every IAM policy attached to the function's role."""
    role_id = _function(template, function_id)["Properties"]["Role"]["Fn::GetAtt"][0]
    statements: list[dict[str, Any]] = []
    for policy in template.find_resources("AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return statements


def _actions(statement: dict[str, Any]) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


def _resources(statement: dict[str, Any]) -> list[Any]:
    resource = statement["Resource"]
    return resource if isinstance(resource, list) else [resource]


def test_exactly_the_three_planned_functions_exist(template: assertions.Template) -> None:
    # Baton's own: CDK adds its Node.js provider for the SES account suppression custom resource.
    handlers = {
        f["Properties"]["Handler"]
        for f in template.find_resources(FUNCTION).values()
        if str(f["Properties"]["Runtime"]).startswith("python")
    }

    assert handlers == set(names.HANDLERS.values())


@pytest.mark.parametrize("function_id", names.HANDLERS)
def test_function_runs_python313_on_x86_with_active_tracing(
    template: assertions.Template, function_id: str
) -> None:
    properties = _function(template, function_id)["Properties"]

    assert properties["Runtime"] == "python3.13"
    assert properties["Architectures"] == ["x86_64"]
    assert properties["TracingConfig"] == {"Mode": "Active"}


@pytest.mark.parametrize("function_id", names.HANDLERS)
def test_function_logs_to_its_own_group_with_configured_retention(
    template: assertions.Template, function_id: str
) -> None:
    log_group_id = _function(template, function_id)["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
    log_group = template.find_resources("AWS::Logs::LogGroup")[log_group_id]

    assert log_group["Properties"]["RetentionInDays"] == cdk_json_context()["baton"]["logRetentionDays"]


@pytest.mark.parametrize("function_id", names.HANDLERS)
def test_function_environment_fills_every_settings_field(
    template: assertions.Template, function_id: str
) -> None:
    # given Settings reads BATON_<FIELD>, then every field has its variable, plus Powertools' own
    variables = _function(template, function_id)["Properties"]["Environment"]["Variables"]

    assert {names.settings_env(field) for field in Settings.model_fields} <= set(variables)
    assert variables["POWERTOOLS_SERVICE_NAME"] == "baton"
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "Baton"


def test_environment_carries_the_deploy_settings_from_cdk_json(template: assertions.Template) -> None:
    config = cdk_json_context()["baton"]
    variables = _function(template, names.PUBLIC_API_FUNCTION)["Properties"]["Environment"]["Variables"]

    assert variables[names.ENV_BRAND_NAME] == config["brandName"]
    assert variables[names.ENV_SENDER_EMAIL] == config["senderEmail"]
    assert variables[names.ENV_POSTAL_ADDRESS] == config["postalAddress"]
    assert json.loads(variables[names.settings_env("locales")]) == config["locales"]
    assert json.loads(variables[names.ENV_DEFAULT_TOPICS]) == config["defaultTopics"]
    assert json.loads(variables[names.ENV_TOPICS]) == config["topics"]
    assert json.loads(variables[names.ENV_ALLOWED_ORIGINS]) == config["allowedOrigins"]
    assert variables[names.ENV_SES_CONFIGURATION_SET] == {
        "Ref": _only_id(template, "AWS::SES::ConfigurationSet")
    }


def test_environment_names_tables_and_secrets_by_reference(template: assertions.Template) -> None:
    variables = _function(template, names.SMS_INBOUND_FUNCTION)["Properties"]["Environment"]["Variables"]
    tables = template.find_resources("AWS::DynamoDB::Table")
    secrets = template.find_resources("AWS::SecretsManager::Secret")

    assert {
        variables[names.table_env(table_id)]["Ref"] for table_id in ("contacts", "consent", "timeline")
    } < set(tables)
    assert {
        variables[names.ENV_TOKEN_SECRET_ARN]["Ref"],
        variables[names.ENV_SUPPRESSION_SALT_SECRET_ARN]["Ref"],
    } == set(secrets)


def _only_id(template: assertions.Template, resource_type: str) -> str:
    (logical_id,) = template.find_resources(resource_type)
    return logical_id


def test_public_base_url_defaults_to_the_execute_api_url_without_the_stage(
    template: assertions.Template,
) -> None:
    # referencing the Stage would make a cycle: stage -> deployment -> methods -> function -> stage
    variables = _function(template, names.PUBLIC_API_FUNCTION)["Properties"]["Environment"]["Variables"]
    parts = variables[names.ENV_PUBLIC_BASE_URL]["Fn::Join"][1]
    stage_name = cdk_json_context()["baton"].get("stageName", "prod")

    assert parts[0] == "https://"
    assert {"Ref": _only_id(template, "AWS::ApiGateway::RestApi")} in parts
    assert parts[-1] == f"/{stage_name}"
    assert _only_id(template, "AWS::ApiGateway::Stage") not in json.dumps(parts)


def test_configured_public_base_url_is_used_as_is(tmp_path: Path) -> None:
    # given a custom domain in front of the API, then links in messages use it
    app = build_app(
        outdir=str(tmp_path), bundling=False, context={"baton": {"publicBaseUrl": "https://go.example.com/"}}
    )
    stack = app.node.find_child("Baton")
    assert isinstance(stack, Stack)
    template = assertions.Template.from_stack(stack)

    template.has_resource_properties(
        FUNCTION,
        {"Environment": {"Variables": {names.ENV_PUBLIC_BASE_URL: "https://go.example.com"}}},
    )


@pytest.mark.parametrize("function_id", names.HANDLERS)
def test_function_may_read_and_write_every_table(template: assertions.Template, function_id: str) -> None:
    statements = _policy_statements(template, function_id)
    tables = set(template.find_resources("AWS::DynamoDB::Table"))
    writable = {
        resource["Fn::GetAtt"][0]  # the table ARNs; `.../index/*` entries are Fn::Join
        for statement in statements
        if {"dynamodb:PutItem", "dynamodb:Query"} <= _actions(statement)
        for resource in _resources(statement)
        if "Fn::GetAtt" in resource
    }

    assert writable == tables


@pytest.mark.parametrize("function_id", names.HANDLERS)
def test_function_may_read_both_secrets(template: assertions.Template, function_id: str) -> None:
    statements = _policy_statements(template, function_id)
    readable = {
        resource["Ref"]
        for statement in statements
        if "secretsmanager:GetSecretValue" in _actions(statement)
        for resource in _resources(statement)
    }

    assert readable == set(template.find_resources("AWS::SecretsManager::Secret"))


@pytest.mark.parametrize("function_id", names.HANDLERS)
def test_function_sends_email_only_as_the_sender_identity(
    template: assertions.Template, function_id: str
) -> None:
    (statement,) = [s for s in _policy_statements(template, function_id) if "ses:SendEmail" in _actions(s)]

    assert _actions(statement) == {"ses:SendEmail", "ses:SendRawEmail"}
    assert "*" not in statement["Resource"]
    assert len(statement["Resource"]) == 2  # the identity and the configuration set


@pytest.mark.parametrize("function_id", names.HANDLERS)
def test_r_ses_1_function_may_read_the_account_limits_and_which_identities_are_verified(
    template: assertions.Template, function_id: str
) -> None:
    statements = _policy_statements(template, function_id)
    (account,) = [s for s in statements if "ses:GetAccount" in _actions(s)]
    (identities,) = [s for s in statements if "ses:GetEmailIdentity" in _actions(s)]

    # GetAccount has no resource ARN; GetEmailIdentity reads identities only, no other SES resource
    assert (_actions(account), account["Resource"]) == ({"ses:GetAccount"}, "*")
    assert _actions(identities) == {"ses:GetEmailIdentity"}
    assert json.dumps(identities["Resource"]).endswith('":identity/*"]]}')


@pytest.mark.parametrize("function_id", names.HANDLERS)
def test_function_may_publish_sms(template: assertions.Template, function_id: str) -> None:
    publish = [s for s in _policy_statements(template, function_id) if "sns:Publish" in _actions(s)]
    (statement,) = [s for s in publish if s["Resource"] == "*"]

    # SMS to a phone number has no ARN; the cdk-nag acknowledgement on the policy says so
    assert _actions(statement) == {"sns:Publish"}
    # The journey step function also publishes new tasks to the hand-off queues'
    # topics, by their ARNs (a Ref each); no other function publishes anywhere else.
    queue_topics = {lid for lid in template.find_resources("AWS::SNS::Topic") if "QueueTopic" in lid}
    others = [s for s in publish if s is not statement]
    published = set()
    for other in others:
        resources = other["Resource"] if isinstance(other["Resource"], list) else [other["Resource"]]
        published |= {r["Ref"] for r in resources}
    assert queue_topics, "the samples hand tasks to queues"
    assert published == (queue_topics if function_id == names.JOURNEY_STEP_FUNCTION else set())


@pytest.mark.parametrize(
    "function_id", [names.JOURNEY_STEP_FUNCTION, names.PUBLIC_API_FUNCTION, names.SMS_INBOUND_FUNCTION]
)
def test_every_sending_function_reserves_sends_in_the_cap_counts_table(
    template: assertions.Template, function_id: str
) -> None:
    # the dispatcher reads the contact's cap count and writes it back conditionally at each send
    (caps_id,) = [lid for lid in template.find_resources("AWS::DynamoDB::Table") if "CapsTable" in lid]
    variables = _function(template, function_id)["Properties"]["Environment"]["Variables"]
    granted = {
        action
        for statement in _policy_statements(template, function_id)
        if {"Fn::GetAtt": [caps_id, "Arn"]} in _resources(statement)
        for action in _actions(statement)
    }

    assert variables[names.table_env("caps")] == {"Ref": caps_id}
    assert {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:BatchWriteItem"} <= granted


def _table_actions(template: assertions.Template, function_id: str, table_id: str) -> tuple[Any, set[str]]:
    (table,) = [
        lid
        for lid in template.find_resources("AWS::DynamoDB::Table")
        if names.table_construct_id(table_id) in lid
    ]
    granted = {
        action
        for statement in _policy_statements(template, function_id)
        if {"Fn::GetAtt": [table, "Arn"]} in _resources(statement)
        for action in _actions(statement)
    }
    variables = _function(template, function_id)["Properties"]["Environment"]["Variables"]
    return variables[names.table_env(table_id)] == {"Ref": table}, granted


@pytest.mark.parametrize("function_id", names.HANDLERS)
def test_every_function_that_writes_the_timeline_may_add_to_the_figures(
    template: assertions.Template, function_id: str
) -> None:
    # every timeline write is counted, and each handler flushes its counts when it ends
    timeline_named, timeline_granted = _table_actions(template, function_id, "timeline")
    figures_named, figures_granted = _table_actions(template, function_id, "figures")

    assert timeline_named
    assert "dynamodb:PutItem" in timeline_granted
    assert figures_named
    assert {"dynamodb:UpdateItem", "dynamodb:Query"} <= figures_granted


def test_r_br_1_the_private_api_may_load_do_not_contact_lists(template: assertions.Template) -> None:
    named, granted = _table_actions(template, names.PRIVATE_API_FUNCTION, "do_not_contact")

    assert named
    assert {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:BatchWriteItem", "dynamodb:Query"} <= granted
    assert "dynamodb:DeleteItem" in granted  # older generations go once the new one is in force


@pytest.mark.parametrize(
    "function_id", [names.JOURNEY_STEP_FUNCTION, names.PUBLIC_API_FUNCTION, names.SMS_INBOUND_FUNCTION]
)
def test_r_br_1_every_sending_function_may_read_the_do_not_contact_lists(
    template: assertions.Template, function_id: str
) -> None:
    # the dispatcher reads the list in force at send time, strongly consistent
    named, granted = _table_actions(template, function_id, "do_not_contact")

    assert named
    assert "dynamodb:GetItem" in granted
