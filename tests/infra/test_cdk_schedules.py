"""EventBridge Scheduler in the template: one schedule per scheduled journey and the weekly
review digest's (always there), each targeting ScheduleFunction with the scheduled time,
flexible window off, retries and a DLQ; a bad `review.digestSchedule` fails synth by name."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import assertions
from pydantic import ValidationError

from baton.journeys.catalog import load_catalog
from infra import names
from infra.config import BatonConfig
from infra.constructs.schedules import MAX_EVENT_AGE, RETRY_ATTEMPTS, SCHEDULED_TIME
from infra.synth import ROOT, cdk_json_context, synthesize

SCHEDULE = "AWS::Scheduler::Schedule"
STACK = cdk_json_context()["baton"]["stackName"]
SCHEDULED = sorted(j.journey for j in load_catalog(ROOT / "journeys").scheduled_journeys())
DIGEST = f"{STACK}-ReviewDigest"


def _schedule_function_id(template: assertions.Template) -> str:
    (logical_id,) = template.find_resources(
        "AWS::Lambda::Function", {"Properties": {"Handler": names.HANDLERS[names.SCHEDULE_FUNCTION]}}
    )
    return logical_id


def _schedules(template: assertions.Template) -> dict[str, Any]:
    return {r["Properties"]["Name"]: r["Properties"] for r in template.find_resources(SCHEDULE).values()}


def test_one_schedule_per_scheduled_journey_and_the_review_digests(template: assertions.Template) -> None:
    assert SCHEDULED == ["gold-monthly"]
    assert sorted(_schedules(template)) == sorted([DIGEST, *(f"{STACK}-{journey}" for journey in SCHEDULED)])


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


def test_the_review_digest_fires_mondays_at_8_utc_into_the_schedule_function_with_retries_and_the_dlq(
    template: assertions.Template,
) -> None:
    props = _schedules(template)[DIGEST]
    journey_target = _schedules(template)[f"{STACK}-gold-monthly"]["Target"]

    assert props["ScheduleExpression"] == "cron(0 8 ? * MON *)"
    assert props["ScheduleExpressionTimezone"] == "UTC"
    assert props["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert props["State"] == "ENABLED"
    target = props["Target"]
    assert json.loads(target["Input"]) == {"digest": "review", "scheduled_time": SCHEDULED_TIME}
    assert target["Arn"] == {"Fn::GetAtt": [_schedule_function_id(template), "Arn"]}
    assert target["RetryPolicy"] == {
        "MaximumRetryAttempts": RETRY_ATTEMPTS,
        "MaximumEventAgeInSeconds": int(MAX_EVENT_AGE.to_seconds()),
    }
    # the journeys' own retry policy, dead-letter queue and role
    for key in ("RetryPolicy", "DeadLetterConfig", "RoleArn"):
        assert target[key] == journey_target[key]


def test_the_digest_schedule_is_the_cdk_json_setting_and_a_bad_one_names_the_key() -> None:
    baton = cdk_json_context()["baton"]
    config = BatonConfig.model_validate({**baton, "review": {"digestSchedule": "cron(30 6 ? * FRI *)"}})
    assert config.review.digest_schedule == "cron(30 6 ? * FRI *)"

    with pytest.raises(ValidationError, match=r"review\.digestSchedule\n.*not an EventBridge Scheduler"):
        BatonConfig.model_validate({**baton, "review": {"digestSchedule": "cron(0 8 * * MON *)"}})
    with pytest.raises(ValidationError, match=r"review\.digestSchedule"):
        BatonConfig.model_validate({**baton, "review": {"digestSchedule": "every monday"}})


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


def test_without_a_scheduled_journey_the_digest_schedule_and_its_function_are_still_there(
    tmp_path: Path,
) -> None:
    # given a catalog whose one scheduled journey is gone, and a digest schedule of its own
    catalog = tmp_path / "journeys"
    shutil.copytree(ROOT / "journeys", catalog)
    (catalog / "gold-monthly.yaml").unlink()
    context = {"baton": {"journeysDir": str(catalog), "review": {"digestSchedule": "cron(0 7 ? * TUE *)"}}}

    template = assertions.Template.from_json(synthesize(tmp_path / "out", bundling=False, context=context))

    assert {name: props["ScheduleExpression"] for name, props in _schedules(template).items()} == {
        DIGEST: "cron(0 7 ? * TUE *)"
    }
    assert _schedule_function_id(template)
