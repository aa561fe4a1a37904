"""The Feedback construct: SES events to the default bus, rules for SES and End
User Messaging receipts, the SNS SMS status subscriptions, FeedbackFunction with its DLQ and
alarm (R-REL-5), and a synthesized `confirm_delivery` step."""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from typing import Any

import pytest
from aws_cdk import Stack, assertions

from infra import names
from infra.synth import ROOT, build_app

STACK = "Baton"
FUNCTION = "AWS::Lambda::Function"
RULE = "AWS::Events::Rule"
CONFIRMED_JOURNEY = """\
journey: shipped-confirmed
owner: ops@example.com
purpose: transactional
review_by: 2027-06-30
trigger:
  event: order.confirmed
steps:
  - id: tell
    send: {template: order-shipped, channels: [sms, email], confirm_delivery: 10m}
"""


def _function_id(template: assertions.Template, function_id: str) -> str:
    (logical_id,) = template.find_resources(
        FUNCTION, {"Properties": {"Handler": names.HANDLERS[function_id]}}
    )
    return logical_id


def _feedback_rules(template: assertions.Template) -> dict[str, Mapping[str, Any]]:
    return {
        rule["Properties"]["EventPattern"]["source"][0]: rule
        for rule in template.find_resources(RULE).values()
        if "source" in rule["Properties"]["EventPattern"]
    }


def test_ses_publishes_bounces_complaints_and_deliveries_to_the_default_bus(
    template: assertions.Template,
) -> None:
    (destination,) = template.find_resources("AWS::SES::ConfigurationSetEventDestination").values()
    properties = destination["Properties"]["EventDestination"]

    assert set(properties["MatchingEventTypes"]) == {"bounce", "complaint", "delivery", "reject"}
    assert properties["Enabled"] is True
    assert "default" in json.dumps(properties["EventBridgeDestination"])


def test_rules_route_ses_sms_voice_and_whatsapp_events_to_the_feedback_function(
    template: assertions.Template,
) -> None:
    rules = _feedback_rules(template)
    function_arn = {"Fn::GetAtt": [_function_id(template, names.FEEDBACK_FUNCTION), "Arn"]}

    assert set(rules) == {"aws.ses", "aws.sms-voice", "aws.social-messaging"}
    assert "Email Bounced" in rules["aws.ses"]["Properties"]["EventPattern"]["detail-type"]
    assert (
        "Text Message Delivery Status Updated"
        in rules["aws.sms-voice"]["Properties"]["EventPattern"]["detail-type"]
    )
    for rule in rules.values():
        assert rule["Properties"]["EventBusName"] == "default"
        (target,) = rule["Properties"]["Targets"]
        assert target["Arn"] == function_arn
        assert "DeadLetterConfig" in target
        assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] == 24 * 3600


def test_the_feedback_function_and_rule_targets_share_one_dead_letter_queue_with_an_alarm(
    template: assertions.Template,
) -> None:
    function = template.find_resources(FUNCTION)[_function_id(template, names.FEEDBACK_FUNCTION)]
    queue_arn = function["Properties"]["DeadLetterConfig"]["TargetArn"]
    queue_id = queue_arn["Fn::GetAtt"][0]

    assert function["Properties"]["Handler"] == "baton.handlers.feedback.handler"
    for rule in _feedback_rules(template).values():
        assert rule["Properties"]["Targets"][0]["DeadLetterConfig"] == {"Arn": queue_arn}
    alarms = [
        alarm
        for alarm in template.find_resources("AWS::CloudWatch::Alarm").values()
        if {"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}
        in alarm["Properties"].get("Dimensions", [])
    ]
    assert len(alarms) == 1
    assert "R-REL-5" in alarms[0]["Properties"]["AlarmDescription"]


def test_sns_sms_delivery_status_logs_are_subscribed_to_the_feedback_function(
    template: assertions.Template,
) -> None:
    filters = template.find_resources("AWS::Logs::SubscriptionFilter")
    function_arn = {"Fn::GetAtt": [_function_id(template, names.FEEDBACK_FUNCTION), "Arn"]}

    assert len(filters) == 2
    assert all(f["Properties"]["DestinationArn"] == function_arn for f in filters.values())
    template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": assertions.Match.object_like(
                {"Statement": [assertions.Match.object_like({"Principal": {"Service": "sns.amazonaws.com"}})]}
            )
        },
    )


def test_the_feedback_function_may_answer_waiting_journeys(template: assertions.Template) -> None:
    role_id = template.find_resources(FUNCTION)[_function_id(template, names.FEEDBACK_FUNCTION)][
        "Properties"
    ]["Role"]["Fn::GetAtt"][0]
    statements = [
        s
        for policy in template.find_resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
    ]

    assert any(s["Action"] == "states:SendTaskSuccess" for s in statements)


# A synthesized confirm_delivery step ------------------------------------------------------------


@pytest.fixture(scope="module")
def confirmed_definition(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp_path = tmp_path_factory.mktemp("confirmed")
    catalog = tmp_path / "journeys"
    shutil.copytree(ROOT / "journeys", catalog)
    (catalog / "shipped-confirmed.yaml").write_text(CONFIRMED_JOURNEY)
    app = build_app(
        outdir=str(tmp_path / "out"), bundling=False, context={"baton": {"journeysDir": str(catalog)}}
    )
    stack = app.node.find_child(STACK)
    assert isinstance(stack, Stack)
    template = assertions.Template.from_stack(stack).to_json()
    (properties,) = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::StepFunctions::StateMachine"
        and r["Properties"]["StateMachineName"] == f"{STACK}-shipped-confirmed"
    ]
    parts = properties["DefinitionString"]["Fn::Join"][1]
    definition: dict[str, Any] = json.loads("".join(p if isinstance(p, str) else "X" for p in parts))
    return definition


def test_the_synthesized_step_waits_for_each_receipt_with_timeout_seconds(
    confirmed_definition: dict[str, Any],
) -> None:
    states = confirmed_definition["States"]

    start = states[confirmed_definition["StartAt"]]  # where a run continued anew resumes (R-REL-1)
    assert {"Variable": "$.resume", "IsPresent": False, "Next": "Send tell by sms"} in start["Choices"]
    for channel, failover in (("sms", "Send tell by email"), ("email", "Not delivered tell")):
        receipt = states[f"Await receipt tell by {channel}"]
        assert receipt["Resource"].endswith(":states:::lambda:invoke.waitForTaskToken")
        assert receipt["TimeoutSeconds"] == 600  # R-REL-3
        assert receipt["Catch"][0] == {
            "ErrorEquals": ["States.Timeout"],
            "ResultPath": "$.steps.tell.timed_out",
            "Next": failover,
        }
        assert states[f"tell by {channel} delivered?"]["Default"] == failover
