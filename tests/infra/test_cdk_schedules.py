"""Schedule triggers in the template: one EventBridge Scheduler schedule per scheduled journey,
targeting ScheduleFunction with the scheduled time, flexible window off, retries and a DLQ."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import assertions

from baton.journeys.catalog import load_catalog
from infra import names
from infra.constructs.schedules import RETRY_ATTEMPTS, SCHEDULED_TIME
from infra.synth import ROOT, cdk_json_context

SCHEDULE = "AWS::Scheduler::Schedule"
STACK = cdk_json_context()["baton"]["stackName"]
SCHEDULED = sorted(j.journey for j in load_catalog(ROOT / "journeys").scheduled_journeys())


def _schedule_function_id(template: assertions.Template) -> str:
    (logical_id,) = template.find_resources(
        "AWS::Lambda::Function", {"Properties": {"Handler": names.HANDLERS[names.SCHEDULE_FUNCTION]}}
    )
    return logical_id


def _schedules(template: assertions.Template) -> dict[str, Any]:
    return {r["Properties"]["Name"]: r["Properties"] for r in template.find_resources(SCHEDULE).values()}


def test_one_schedule_per_scheduled_journey(template: assertions.Template) -> None:
    assert SCHEDULED == ["gold-monthly"]
    assert sorted(_schedules(template)) == [f"{STACK}-{journey}" for journey in SCHEDULED]


def test_the_schedule_is_the_dsl_expression_in_utc_without_a_flexible_window(
    template: assertions.Template,
) -> None:
    props = _schedules(template)[f"{STACK}-gold-monthly"]

    assert props["ScheduleExpression"] == "cron(0 9 1 * ? *)"
    assert props["ScheduleExpressionTimezone"] == "UTC"
    assert props["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert props["State"] == "ENABLED"


def test_the_target_is_the_schedule_function_with_the_journey_and_the_scheduled_time(
    template: assertions.Template,
) -> None:
    target = _schedules(template)[f"{STACK}-gold-monthly"]["Target"]

    assert target["Arn"] == {"Fn::GetAtt": [_schedule_function_id(template), "Arn"]}
    assert json.loads(target["Input"]) == {"journey": "gold-monthly", "scheduled_time": SCHEDULED_TIME}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == RETRY_ATTEMPTS
    queue_id = target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
    assert queue_id in template.find_resources("AWS::SQS::Queue")
    function = template.find_resources("AWS::Lambda::Function")[_schedule_function_id(template)]
    assert function["Properties"]["DeadLetterConfig"]["TargetArn"] == {"Fn::GetAtt": [queue_id, "Arn"]}


def test_the_scheduler_role_may_invoke_the_function_and_dead_letter_only(
    template: assertions.Template,
) -> None:
    role_id = _schedules(template)[f"{STACK}-gold-monthly"]["Target"]["RoleArn"]["Fn::GetAtt"][0]
    role = template.find_resources("AWS::IAM::Role")[role_id]
    (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert "aws:SourceAccount" in statement["Condition"]["StringEquals"]
    actions = {
        action
        for policy in template.find_resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        for action in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert actions == {
        "lambda:InvokeFunction",
        "sqs:SendMessage",
        "sqs:GetQueueAttributes",
        "sqs:GetQueueUrl",
    }


def test_the_schedule_function_may_start_the_journeys(template: assertions.Template) -> None:
    function = template.find_resources("AWS::Lambda::Function")[_schedule_function_id(template)]
    role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
    actions = {
        action
        for policy in template.find_resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        for action in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert "states:StartExecution" in actions
    assert "dynamodb:Scan" in actions
