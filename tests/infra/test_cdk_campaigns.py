"""Campaigns in the template: the one campaign state machine (snapshot, a Distributed Map over
the snapshot in S3, finish; failures recorded), the function behind it, the snapshot bucket and
the campaigns table, with the grants each needs and no more."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import assertions
from pydantic import ValidationError

from baton.data.tables import CAMPAIGNS
from infra import names
from infra.config import BatonConfig
from infra.journeys.compiler import LAMBDA_SERVICE_ERRORS, RETRY_INTERVAL, RETRY_MAX_ATTEMPTS
from infra.synth import build_app, cdk_json_context

STACK = cdk_json_context()["baton"]["stackName"]
STATE_MACHINE = "AWS::StepFunctions::StateMachine"
FUNCTION = "AWS::Lambda::Function"
BUCKET = "AWS::S3::Bucket"
FUNCTION_ARN = "<CampaignFunction>"
BACKOFF_ERRORS = [
    *LAMBDA_SERVICE_ERRORS,
    "Baton.ProviderUnavailable",
    "Baton.Throttled",
    "Baton.RecordingUnfinished",
    "Baton.AwsUnavailable",
]


def _campaign_machine(template_json: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    (found,) = [
        (logical_id, r)
        for logical_id, r in template_json["Resources"].items()
        if r["Type"] == STATE_MACHINE
        and r["Properties"]["StateMachineName"] == names.campaign_state_machine_name(STACK)
    ]
    return found


def _function_id(template_json: Mapping[str, Any]) -> str:
    (logical_id,) = [
        lid
        for lid, r in template_json["Resources"].items()
        if r["Type"] == FUNCTION and r["Properties"].get("Handler") == names.HANDLERS[names.CAMPAIGN_FUNCTION]
    ]
    return logical_id


def _asl(template_json: Mapping[str, Any]) -> dict[str, Any]:
    """The campaign DefinitionString, the function's GetAtt written as FUNCTION_ARN and the
    partition as `aws`."""
    function_id = _function_id(template_json)
    parts = _campaign_machine(template_json)[1]["Properties"]["DefinitionString"]["Fn::Join"][1]

    def text(part: Any) -> str:
        if isinstance(part, str):
            return part
        if part == {"Ref": "AWS::Partition"}:
            return "aws"
        assert part == {"Fn::GetAtt": [function_id, "Arn"]}, part
        return FUNCTION_ARN

    definition: dict[str, Any] = json.loads("".join(text(p) for p in parts))
    return definition


def _statements(template_json: Mapping[str, Any], role_id: str) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = []
    for resource in template_json["Resources"].values():
        if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in resource["Properties"]["Roles"]:
            statements.extend(resource["Properties"]["PolicyDocument"]["Statement"])
    return statements


def _actions(statement: Mapping[str, Any]) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


def _resources(statement: Mapping[str, Any]) -> list[Any]:
    resource = statement["Resource"]
    return resource if isinstance(resource, list) else [resource]


def _with_action(statements: list[dict[str, Any]], action: str) -> list[dict[str, Any]]:
    return [s for s in statements if action in _actions(s)]


def _snapshot_bucket_id(template_json: Mapping[str, Any]) -> str:
    (found,) = [
        lid
        for lid, r in template_json["Resources"].items()
        if r["Type"] == BUCKET and "LoggingConfiguration" in r.get("Properties", {})
    ]
    return found


def _arn_text(value: Any) -> str:
    parts = value["Fn::Join"][1]
    return "".join(p if isinstance(p, str) else "${" + p["Ref"] + "}" for p in parts)


# The state machine --------------------------------------------------------------------------


def test_the_stack_has_one_standard_campaign_state_machine_logged_and_traced(
    template_json: dict[str, Any],
) -> None:
    _, machine = _campaign_machine(template_json)
    properties = machine["Properties"]

    assert properties["StateMachineType"] == "STANDARD"
    assert properties["TracingConfiguration"] == {"Enabled": True}
    logging = properties["LoggingConfiguration"]
    assert logging["Level"] == "ALL"
    assert logging["IncludeExecutionData"] is False  # a batch's input holds contact ids


def test_a_run_waits_for_its_time_snapshots_then_sends_its_batches_then_finishes(
    template_json: dict[str, Any],
) -> None:
    asl = _asl(template_json)
    states = asl["States"]

    assert asl["StartAt"] == "Wait for its time"
    assert states["Wait for its time"] == {"Type": "Wait", "TimestampPath": "$.at", "Next": "Snapshot"}
    assert states["Snapshot"]["Next"] == "Batches"
    assert states["Batches"]["Next"] == "Finish"
    assert states["Finish"]["Next"] == "Campaign finished"
    assert states["Campaign finished"]["Type"] == "Succeed"
    assert states["Snapshot"]["Parameters"] == {"action": "snapshot", "run_id.$": "$.run_id"}
    assert states["Finish"]["Parameters"] == {"action": "finish", "run_id.$": "$.run_id"}


def test_the_snapshot_task_keeps_the_functions_own_answer_at_snapshot(template_json: dict[str, Any]) -> None:
    snapshot = _asl(template_json)["States"]["Snapshot"]

    # the function's payload itself (no invoke envelope, no ResultSelector needed)
    assert snapshot["Resource"] == FUNCTION_ARN
    assert snapshot["ResultPath"] == "$.snapshot"
    assert "ResultSelector" not in snapshot


def test_batches_is_a_distributed_map_reading_the_snapshot_object_from_s3(
    template_json: dict[str, Any],
) -> None:
    batches = _asl(template_json)["States"]["Batches"]

    assert batches["Type"] == "Map"
    assert batches["ItemReader"] == {
        "Resource": "arn:aws:states:::s3:getObject",
        "ReaderConfig": {"InputType": "JSON"},
        "Parameters": {"Bucket.$": "$.snapshot.bucket", "Key.$": "$.snapshot.key"},
    }
    assert batches["ItemSelector"] == {
        "run_id.$": "$.run_id",
        "batch.$": "$$.Map.Item.Value.batch",
        "contacts.$": "$$.Map.Item.Value.contacts",
    }
    assert batches["ItemProcessor"]["ProcessorConfig"] == {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
    assert batches["Label"] == "Batches"
    assert batches["MaxConcurrency"] == 200  # cdk.json sets none: the default


def test_batches_discard_their_results_so_a_run_never_holds_thousands_of_answers(
    template_json: dict[str, Any],
) -> None:
    batches = _asl(template_json)["States"]["Batches"]

    assert "ResultPath" in batches
    assert batches["ResultPath"] is None
    assert "ResultWriter" not in batches


def test_moto_rejects_none_of_the_distributed_maps_fields(template_json: dict[str, Any]) -> None:
    # moto 5.2.5's parser (local mode) refuses these three; AWS needs none of them here
    batches = _asl(template_json)["States"]["Batches"]

    assert "ItemBatcher" not in batches
    assert "ToleratedFailurePercentage" not in batches
    assert batches["ItemProcessor"]["ProcessorConfig"].get("ExecutionType") != "EXPRESS"


def test_a_batch_is_one_task_with_the_batch_payload(template_json: dict[str, Any]) -> None:
    processor = _asl(template_json)["States"]["Batches"]["ItemProcessor"]

    assert processor["StartAt"] == "Send batch"
    assert set(processor["States"]) == {"Send batch"}
    send = processor["States"]["Send batch"]
    assert send["Resource"] == FUNCTION_ARN
    assert send["End"] is True
    assert send["Parameters"] == {
        "action": "batch",
        "run_id.$": "$.run_id",
        "batch.$": "$.batch",
        "contacts.$": "$.contacts",
        "retry_count.$": "$$.State.RetryCount",
    }


def test_r_rel_4_a_batch_retries_paused_every_minute_unfinished_at_once_and_throttled_with_backoff(
    template_json: dict[str, Any],
) -> None:
    send = _asl(template_json)["States"]["Batches"]["ItemProcessor"]["States"]["Send batch"]

    assert send["Retry"] == [
        {
            "ErrorEquals": ["Baton.CampaignPaused"],
            "IntervalSeconds": 60,
            "MaxAttempts": 99999999,
            "BackoffRate": 1,
        },
        {
            "ErrorEquals": ["Baton.BatchUnfinished"],
            "IntervalSeconds": 1,
            "MaxAttempts": 1000,
            "BackoffRate": 1,
        },
        {
            "ErrorEquals": BACKOFF_ERRORS,
            "IntervalSeconds": RETRY_INTERVAL.to_seconds(),
            "MaxAttempts": RETRY_MAX_ATTEMPTS,
            "BackoffRate": 2,
            "MaxDelaySeconds": 60,
            "JitterStrategy": "FULL",  # R-REL-4: the journeys' own backoff
        },
    ]
    assert "Catch" not in send  # a batch that still fails fails the map, and the run records it


@pytest.mark.parametrize("state", ["Snapshot", "Batches", "Finish"])
def test_a_failure_of_snapshot_batches_or_finish_is_recorded_then_fails_the_run(
    template_json: dict[str, Any], state: str
) -> None:
    states = _asl(template_json)["States"]

    assert states[state]["Catch"] == [
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Record failure"}
    ]
    record = states["Record failure"]
    assert record["Resource"] == FUNCTION_ARN
    assert record["Parameters"] == {"action": "fail", "run_id.$": "$.run_id", "error.$": "$.error"}
    assert record["Next"] == "Campaign failed"
    assert states["Campaign failed"]["Type"] == "Fail"


def test_the_run_level_tasks_back_off_like_a_journeys_tasks(template_json: dict[str, Any]) -> None:
    states = _asl(template_json)["States"]

    for state in ("Snapshot", "Finish", "Record failure"):
        (retry,) = states[state]["Retry"]
        assert retry["ErrorEquals"] == BACKOFF_ERRORS
        assert retry["JitterStrategy"] == "FULL"


def test_r_rel_5_a_failed_campaign_run_raises_an_alarm(
    template: assertions.Template, template_json: dict[str, Any]
) -> None:
    machine_id, _ = _campaign_machine(template_json)

    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "ExecutionsFailed",
            "Dimensions": [{"Name": "StateMachineArn", "Value": {"Ref": machine_id}}],
        },
    )


# The state machine's grants ----------------------------------------------------------------


def _machine_statements(template_json: Mapping[str, Any]) -> list[dict[str, Any]]:
    _, machine = _campaign_machine(template_json)
    role_id = machine["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    return _statements(template_json, role_id)


def test_the_state_machine_reads_snapshots_and_invokes_only_the_campaign_function(
    template_json: dict[str, Any],
) -> None:
    statements = _machine_statements(template_json)
    bucket_id = _snapshot_bucket_id(template_json)
    function_id = _function_id(template_json)

    (read,) = _with_action(statements, "s3:GetObject")
    assert _actions(read) == {"s3:GetObject"}
    assert _resources(read) == [{"Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, "/campaigns/*"]]}]
    (invoke,) = _with_action(statements, "lambda:InvokeFunction")
    assert {json.dumps(r) for r in _resources(invoke)} == {
        json.dumps({"Fn::GetAtt": [function_id, "Arn"]}),
        json.dumps({"Fn::Join": ["", [{"Fn::GetAtt": [function_id, "Arn"]}, ":*"]]}),
    }
    assert not [
        s for s in statements if any(a.startswith("s3:") and a != "s3:GetObject" for a in _actions(s))
    ]


def test_the_distributed_map_may_start_describe_and_stop_its_own_child_executions(
    template_json: dict[str, Any],
) -> None:
    machine_id, _ = _campaign_machine(template_json)
    statements = _machine_statements(template_json)

    (start,) = _with_action(statements, "states:StartExecution")
    assert _resources(start) == [{"Ref": machine_id}]
    (describe,) = _with_action(statements, "states:DescribeExecution")
    assert _actions(describe) == {"states:DescribeExecution", "states:StopExecution"}
    assert all(machine_id in json.dumps(r) and ":execution:" in json.dumps(r) for r in _resources(describe))


# The function ------------------------------------------------------------------------------


def _function(template_json: Mapping[str, Any]) -> dict[str, Any]:
    resource: dict[str, Any] = template_json["Resources"][_function_id(template_json)]
    return resource


def test_the_campaign_function_has_its_own_timeout_for_paced_batches(template_json: dict[str, Any]) -> None:
    assert _function(template_json)["Properties"]["Timeout"] == 300


def test_the_campaign_function_knows_its_bucket_table_and_state_machine(
    template_json: dict[str, Any],
) -> None:
    variables = _function(template_json)["Properties"]["Environment"]["Variables"]
    table_id = next(
        lid for lid in template_json["Resources"] if names.table_construct_id(CAMPAIGNS.id) in lid
    )

    assert variables[names.ENV_CAMPAIGNS_BUCKET] == {"Ref": _snapshot_bucket_id(template_json)}
    assert variables[names.table_env(CAMPAIGNS.id)] == {"Ref": table_id}
    # from the name, not a Ref: the definition already depends on the function
    assert _arn_text(variables[names.ENV_CAMPAIGN_STATE_MACHINE_ARN]) == (
        "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:"
        + names.campaign_state_machine_name(STACK)
    )


def test_only_the_campaign_function_is_told_the_bucket_and_only_the_starters_the_state_machine(
    template_json: dict[str, Any],
) -> None:
    campaign_id = _function_id(template_json)
    starters = {campaign_id, *(_role_function(template_json, name) for name in STARTERS)}
    for lid, resource in template_json["Resources"].items():
        if resource["Type"] != FUNCTION:
            continue
        variables = resource["Properties"].get("Environment", {}).get("Variables", {})
        if lid != campaign_id:
            assert variables.get(names.ENV_CAMPAIGNS_BUCKET, "") == "", lid
        if lid not in starters:
            assert variables.get(names.ENV_CAMPAIGN_STATE_MACHINE_ARN, "") == "", lid


# The private API starts runs (POST /v1/campaigns) and cancels them; a schedule's firing starts one.
STARTERS = (names.PRIVATE_API_FUNCTION, names.SCHEDULE_FUNCTION)


def _role_function(template_json: dict[str, Any], name: str) -> str:
    (lid,) = [
        lid
        for lid, r in template_json["Resources"].items()
        if r["Type"] == FUNCTION and name in lid and "Properties" in r
    ]
    return lid


@pytest.mark.parametrize("name", STARTERS)
def test_the_api_and_the_schedules_may_start_campaign_runs_and_only_the_api_cancel_them(
    template_json: dict[str, Any], name: str
) -> None:
    function_id = _role_function(template_json, name)
    role_id = template_json["Resources"][function_id]["Properties"]["Role"]["Fn::GetAtt"][0]
    campaign = [s for s in _statements(template_json, role_id) if f"{STACK}-Campaigns" in json.dumps(s)]
    actions = {action for s in campaign for action in _actions(s)}

    assert actions == (
        {"states:StartExecution", "states:StopExecution"}
        if name == names.PRIVATE_API_FUNCTION
        else {"states:StartExecution"}
    )
    variables = template_json["Resources"][function_id]["Properties"]["Environment"]["Variables"]
    assert f"{STACK}-Campaigns" in json.dumps(variables[names.ENV_CAMPAIGN_STATE_MACHINE_ARN])


def test_the_campaign_function_sends_with_the_journey_functions_grants(template_json: dict[str, Any]) -> None:
    # given both send through the gate, then the campaign function may do all a journey send does
    def grants(function_id: str) -> set[tuple[str, str]]:
        role_id = template_json["Resources"][function_id]["Properties"]["Role"]["Fn::GetAtt"][0]
        return {
            (action, json.dumps(resource, sort_keys=True))
            for s in _statements(template_json, role_id)
            for action in _actions(s)
            for resource in _resources(s)
        }

    (journey_id,) = [
        lid
        for lid, r in template_json["Resources"].items()
        if r["Type"] == FUNCTION
        and r["Properties"].get("Handler") == names.HANDLERS[names.JOURNEY_STEP_FUNCTION]
    ]
    own_log_group = {"logs:CreateLogStream", "logs:PutLogEvents"}
    journey_only = {
        (action, resource)
        for action, resource in grants(journey_id)
        # hand-off notices, answering parked tasks, its own log group: a journey's alone
        if "Handoffs" in resource or action.startswith("states:Send") or action in own_log_group
    }
    missing = grants(journey_id) - journey_only - grants(_function_id(template_json))

    assert missing == set()


def test_the_campaign_function_writes_snapshots_and_starts_only_its_runs_and_the_journeys(
    template_json: dict[str, Any],
) -> None:
    role_id = _function(template_json)["Properties"]["Role"]["Fn::GetAtt"][0]
    statements = _statements(template_json, role_id)
    bucket_id = _snapshot_bucket_id(template_json)

    (objects,) = _with_action(statements, "s3:PutObject")
    assert _actions(objects) == {"s3:GetObject", "s3:PutObject"}
    assert _resources(objects) == [{"Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, "/campaigns/*"]]}]
    (listing,) = _with_action(statements, "s3:ListBucket")
    assert _resources(listing) == [{"Fn::GetAtt": [bucket_id, "Arn"]}]
    started = sorted(
        _arn_text(r) for s in _with_action(statements, "states:StartExecution") for r in _resources(s)
    )
    prefix = "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:"
    assert f"{prefix}{names.campaign_state_machine_name(STACK)}" in started
    assert all(arn.startswith(f"{prefix}{STACK}-") for arn in started)


# The bucket --------------------------------------------------------------------------------


def _bucket(template_json: Mapping[str, Any]) -> dict[str, Any]:
    resource: dict[str, Any] = template_json["Resources"][_snapshot_bucket_id(template_json)]
    return resource


def test_the_snapshot_bucket_is_encrypted_private_unversioned_and_retained(
    template_json: dict[str, Any],
) -> None:
    bucket = _bucket(template_json)
    properties = bucket["Properties"]

    (rule,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms"}
    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert properties.get("VersioningConfiguration", {}).get("Status") != "Enabled"
    assert bucket["DeletionPolicy"] == "Retain"
    assert bucket["UpdateReplacePolicy"] == "Retain"


def test_the_snapshot_bucket_refuses_requests_without_tls(template_json: dict[str, Any]) -> None:
    bucket_id = _snapshot_bucket_id(template_json)
    (policy,) = [
        r
        for r in template_json["Resources"].values()
        if r["Type"] == "AWS::S3::BucketPolicy" and r["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]

    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
    )


def test_snapshots_expire_after_the_retention_and_access_is_logged(template_json: dict[str, Any]) -> None:
    properties = _bucket(template_json)["Properties"]

    (rule,) = properties["LifecycleConfiguration"]["Rules"]
    assert rule["Prefix"] == "campaigns/"
    assert rule["ExpirationInDays"] == 30
    assert rule["Status"] == "Enabled"
    logs_bucket = template_json["Resources"][
        properties["LoggingConfiguration"]["DestinationBucketName"]["Ref"]
    ]
    assert logs_bucket["DeletionPolicy"] == "Retain"
    assert "BucketEncryption" in logs_bucket["Properties"]


# The table ---------------------------------------------------------------------------------


def test_the_campaigns_table_has_string_keys_ttl_and_point_in_time_recovery(
    template_json: dict[str, Any],
) -> None:
    (table,) = [
        r
        for lid, r in template_json["Resources"].items()
        if r["Type"] == "AWS::DynamoDB::Table" and names.table_construct_id(CAMPAIGNS.id) in lid
    ]
    properties = table["Properties"]

    assert properties["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert properties["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["DeletionPolicy"] == "Retain"


# Settings ----------------------------------------------------------------------------------


def _config(**campaigns: Any) -> BatonConfig:
    return BatonConfig.model_validate({**cdk_json_context()["baton"], "campaigns": campaigns})


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("maxConcurrency", 0),
        ("maxConcurrency", 1001),
        ("batchTimeoutSeconds", 901),
        ("snapshotRetentionDays", 0),
        ("batchSize", 100),
    ],
)
def test_a_campaign_setting_out_of_range_or_unknown_is_rejected_by_name(key: str, value: int) -> None:
    with pytest.raises(ValidationError, match=key):
        _config(**{key: value})


def test_campaign_settings_from_cdk_json_reach_the_template(tmp_path: Path) -> None:
    # given an operator's campaign settings, when synthesized, then the map, function and bucket follow
    app = build_app(
        outdir=str(tmp_path),
        bundling=False,
        context={
            "baton": {
                "campaigns": {"maxConcurrency": 40, "batchTimeoutSeconds": 600, "snapshotRetentionDays": 7}
            }
        },
    )
    (stack,) = app.synth().stacks
    template_json: dict[str, Any] = stack.template

    assert _asl(template_json)["States"]["Batches"]["MaxConcurrency"] == 40
    assert _function(template_json)["Properties"]["Timeout"] == 600
    (rule,) = _bucket(template_json)["Properties"]["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == 7
