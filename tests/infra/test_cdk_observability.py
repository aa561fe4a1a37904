"""Alarms: function errors, API 5xx and SES reputation (R-MBX-4)."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import assertions

from infra import names

ALARM = "AWS::CloudWatch::Alarm"


@pytest.mark.parametrize(
    ("metric", "thresholds"),
    [("Reputation.BounceRate", (0.02, 0.05)), ("Reputation.ComplaintRate", (0.0005, 0.001))],
)
def test_r_ses_2_bounces_and_complaints_alarm_early_and_at_the_review_level(
    template: assertions.Template, metric: str, thresholds: tuple[float, float]
) -> None:
    # R-SES-2: bounces above 2% (review at 5%), complaints above 0.05% (review at 0.1%); the
    # complaint levels also meet R-MBX-4 (alarm before 0.30%).
    (configuration_set_id,) = template.find_resources("AWS::SES::ConfigurationSet")
    alarms = template.find_resources(ALARM, {"Properties": {"Namespace": "AWS/SES", "MetricName": metric}})

    by_scope = {
        (
            "set"
            if alarm["Properties"].get("Dimensions")
            == [{"Name": "ses:configuration-set", "Value": {"Ref": configuration_set_id}}]
            else "account"
            if "Dimensions" not in alarm["Properties"]
            else "other",
            alarm["Properties"]["Threshold"],
        )
        for alarm in alarms.values()
    }
    assert by_scope == {(scope, level) for scope in ("set", "account") for level in thresholds}


@pytest.mark.parametrize("function_id", names.HANDLERS)
def test_function_errors_raise_an_alarm(template: assertions.Template, function_id: str) -> None:
    (function_logical_id,) = template.find_resources(
        "AWS::Lambda::Function", {"Properties": {"Handler": names.HANDLERS[function_id]}}
    )

    template.has_resource_properties(
        ALARM,
        {
            "Namespace": "AWS/Lambda",
            "MetricName": "Errors",
            "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": function_logical_id}}],
        },
    )


def test_api_server_errors_raise_an_alarm(template: assertions.Template) -> None:
    template.has_resource_properties(ALARM, {"Namespace": "AWS/ApiGateway", "MetricName": "5XXError"})


def test_r_mbx_4_complaints_alarm_before_the_mailbox_providers_limit(template: assertions.Template) -> None:
    # R-MBX-4: complaints target under 0.10% and must alarm before 0.30%: every complaint alarm,
    # for the account and for Baton's configuration set, fires below the target already.
    alarms = template.find_resources(
        ALARM, {"Properties": {"Namespace": "AWS/SES", "MetricName": "Reputation.ComplaintRate"}}
    )
    scopes = {bool(alarm["Properties"].get("Dimensions")) for alarm in alarms.values()}
    assert scopes == {True, False}
    assert all(alarm["Properties"]["Threshold"] <= 0.001 for alarm in alarms.values())
    assert all("GreaterThan" in alarm["Properties"]["ComparisonOperator"] for alarm in alarms.values())


def _function_id(arn: Any) -> str | None:
    """The logical id of the Lambda function an `Fn::GetAtt [id, Arn]` names, else None."""
    if isinstance(arn, dict) and "Fn::GetAtt" in arn and arn["Fn::GetAtt"][1] == "Arn":
        return str(arn["Fn::GetAtt"][0])
    return None


def test_r_rel_5_every_asynchronous_consumer_has_a_dead_letter_queue_with_a_depth_alarm(
    template: assertions.Template,
) -> None:
    functions = template.find_resources("AWS::Lambda::Function")
    queues = template.find_resources("AWS::SQS::Queue")
    alarmed = {
        alarm["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
        for alarm in template.find_resources(
            ALARM,
            {"Properties": {"Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible"}},
        ).values()
    }
    assert queues
    assert set(queues) <= alarmed, "a queue nobody is alarmed about holds lost work unseen"

    consumers: set[str] = set()
    for rule_id, rule in template.find_resources("AWS::Events::Rule").items():
        for target in rule["Properties"]["Targets"]:
            if (function_id := _function_id(target["Arn"])) in functions:
                assert "DeadLetterConfig" in target, (
                    f"{rule_id} delivers to {function_id} with no dead-letter queue"
                )
                consumers.add(str(function_id))
    for subscription_id, subscription in template.find_resources(
        "AWS::SNS::Subscription", {"Properties": {"Protocol": "lambda"}}
    ).items():
        assert "deadLetterTargetArn" in subscription["Properties"].get("RedrivePolicy", {}), subscription_id
        consumers.add(str(_function_id(subscription["Properties"]["Endpoint"])))
    for schedule_id, schedule in template.find_resources("AWS::Scheduler::Schedule").items():
        assert "DeadLetterConfig" in schedule["Properties"]["Target"], schedule_id
        consumers.add(str(_function_id(schedule["Properties"]["Target"]["Arn"])))
    for filter_ in template.find_resources("AWS::Logs::SubscriptionFilter").values():
        if (function_id := _function_id(filter_["Properties"]["DestinationArn"])) in functions:
            consumers.add(str(function_id))

    assert consumers, "the stack has asynchronous consumers"
    for function_id in consumers:
        # An asynchronous invocation that fails its retries lands in the function's own queue.
        assert "DeadLetterConfig" in functions[function_id]["Properties"], function_id
