"""Campaigns: the stack's one campaign state machine, the function behind its tasks, and the bucket
of audience snapshots.

A run (`{"run_id": ...}`, execution name = run id) takes its audience snapshot into S3
(`Snapshot`), fans out over the snapshot's batches with a Distributed Map (`Batches`: one child
execution per batch item, `MaxConcurrency` at once, results discarded so the run's state never
holds thousands of answers), then records its end (`Finish`). Any failure of those three is
recorded (`Record failure`) before the run fails. A batch retries by itself: a paused run's
batches ask again every minute, a batch out of Lambda time goes on at once where it stopped, and
throttling and Lambda's own errors back off as a journey's send does (R-REL-4).

The bucket holds contact ids only (never addresses): SSE-S3, no public access, TLS only, no
versions, `campaigns/` objects expired after `campaigns.snapshotRetentionDays`, access logged to
a bucket of its own; both buckets outlive the stack.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from baton.campaigns.audience import SNAPSHOT_PREFIX
from infra import nag, names
from infra.config import BatonConfig
from infra.constructs.journeys import Journeys, standard_state_machine
from infra.journeys.compiler import RETRY_ERRORS, add_retry
from infra.lambda_function import baton_function
from infra.nag import logical_id

# The errorType CampaignFunction raises for a batch that must be asked again.
CAMPAIGN_PAUSED: Final = "Baton.CampaignPaused"
BATCH_UNFINISHED: Final = "Baton.BatchUnfinished"
# A paused run's batches wait until it is resumed or cancelled: ask once a minute, for as long
# as Step Functions allows (its ceiling for MaxAttempts; a Standard execution lasts a year).
PAUSED_INTERVAL: Final = Duration.minutes(1)
PAUSED_MAX_ATTEMPTS: Final = 99_999_999
# A batch that ran out of Lambda time goes on from where it stopped: at once, many times over.
UNFINISHED_INTERVAL: Final = Duration.seconds(1)
UNFINISHED_MAX_ATTEMPTS: Final = 1000
# Throttling and unavailable providers, Baton's own AWS calls failing for a while, and Lambda's
# own errors: the journeys' backoff (a batch keeps its progress before it raises them).
BACKOFF_ERRORS: Final = RETRY_ERRORS
MAP_LABEL: Final = "Batches"


class Campaigns(Construct):
    """CampaignFunction, `CampaignStateMachine` and the snapshot bucket."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: BatonConfig,
        journeys: Journeys,
        code: lambda_.Code,
        environment: Mapping[str, str],
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.state_machine_name = names.campaign_state_machine_name(stack.stack_name)
        # From the name, not a reference: the definition names the function, so the function
        # cannot wait for the state machine.
        self.state_machine_arn = stack.format_arn(
            service="states",
            resource="stateMachine",
            resource_name=self.state_machine_name,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        self.bucket = self._build_bucket(config)
        self.function = baton_function(
            self,
            names.CAMPAIGN_FUNCTION,
            code=code,
            environment=environment,
            config=config,
            description="Baton campaigns: snapshot a segment's audience, send its batches, finish a run.",
            timeout=Duration.seconds(config.campaigns.batch_timeout_seconds),
        )
        # Its sends take at most their share of each second, waiting a little longer for room.
        self.function.add_environment(names.settings_env("pacing_share"), str(config.campaigns.rate_share))
        self.function.add_environment(
            names.settings_env("pacing_max_wait_seconds"), str(config.campaigns.pacing_wait_seconds)
        )
        # A batch sends as a journey step does; a contact held (quiet hours, a window) goes on in
        # its journey's own execution.
        journeys.grant_sending(self.function)
        journeys.grant_executions(self.function)
        self.grant_snapshots(self.function)
        self.grant_start(self.function)
        self.log_group = logs.LogGroup(self, "StateMachineLogs", retention=config.log_retention)
        self.state_machine = self._build_state_machine(config)

    # Resources --------------------------------------------------------------------------

    def _build_bucket(self, config: BatonConfig) -> s3.Bucket:
        access_logs = self._private_bucket(
            "SnapshotAccessLogs",
            lifecycle_rules=[s3.LifecycleRule(id="ExpireAccessLogs", expiration=Duration.days(365))],
        )
        nag.acknowledge(
            access_logs,
            "AwsSolutions-S1",
            "This bucket receives the snapshot bucket's server access logs; logging its own access"
            " would need a third bucket for the same trail.",
        )
        return self._private_bucket(
            "SnapshotBucket",
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="snapshots/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="ExpireSnapshots",
                    prefix=f"{SNAPSHOT_PREFIX}/",
                    expiration=Duration.days(config.campaigns.snapshot_retention_days),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
        )

    def _private_bucket(self, construct_id: str, **props: Any) -> s3.Bucket:
        """SSE-S3, no public access, TLS only, kept when the stack goes. No versions: a snapshot
        is written once (only if absent), and nothing should outlive its expiry."""
        return s3.Bucket(
            self,
            construct_id,
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=False,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=RemovalPolicy.RETAIN,
            **props,
        )

    def _build_state_machine(self, config: BatonConfig) -> sfn.StateMachine:
        fail = sfn.Fail(
            self,
            "Campaign failed",
            error="Baton.CampaignFailed",
            cause="The run stopped on an error; its status and the error are in the campaigns table.",
        )
        record_failure = self._task(
            "Record failure",
            {
                "action": "fail",
                "run_id": sfn.JsonPath.string_at("$.run_id"),
                "error": sfn.JsonPath.object_at("$.error"),
            },
            result_path=sfn.JsonPath.DISCARD,
        )
        record_failure.next(fail)

        snapshot = self._task(
            "Snapshot",
            {"action": "snapshot", "run_id": sfn.JsonPath.string_at("$.run_id")},
            result_path="$.snapshot",
        )
        batches = self._batches(config)
        finish = self._task(
            "Finish",
            {"action": "finish", "run_id": sfn.JsonPath.string_at("$.run_id")},
            result_path=sfn.JsonPath.DISCARD,
        )
        for state in (snapshot, batches, finish):
            state.add_catch(record_failure, errors=[sfn.Errors.ALL], result_path="$.error")
        # A run started for later (`at`) waits for its time; one started now passes at once.
        wait = sfn.Wait(self, "Wait for its time", time=sfn.WaitTime.timestamp_path("$.at"))
        definition = (
            wait.next(snapshot).next(batches).next(finish).next(sfn.Succeed(self, "Campaign finished"))
        )

        state_machine = standard_state_machine(
            self,
            "CampaignStateMachine",
            name=self.state_machine_name,
            comment="A campaign run: snapshot the audience, send it batch by batch, finish.",
            definition=definition,
            function=self.function,
            log_group=self.log_group,
            failed=(
                "R-REL-5: a campaign run failed (its status and error are in the campaigns table):"
                " read its history, fix, and redrive it within 14 days (a redrive runs again only the"
                " batches that did not succeed)."
            ),
        )
        # ItemReader: the Map reads the run's snapshot itself (the bucket and key come from the
        # Snapshot task's answer, so CDK cannot grant this; the prefix bounds it).
        state_machine.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"], resources=[self.bucket.arn_for_objects(f"{SNAPSHOT_PREFIX}/*")]
            )
        )
        self._acknowledge_map_grants(state_machine)
        return state_machine

    def _batches(self, config: BatonConfig) -> sfn.DistributedMap:
        batches = sfn.DistributedMap(
            self,
            "Batches",
            item_reader=sfn.S3JsonItemReader(
                bucket_name_path=sfn.JsonPath.string_at("$.snapshot.bucket"),
                key=sfn.JsonPath.string_at("$.snapshot.key"),
            ),
            item_selector={
                "run_id": sfn.JsonPath.string_at("$.run_id"),
                "batch": sfn.JsonPath.number_at("$$.Map.Item.Value.batch"),
                "contacts": sfn.JsonPath.list_at("$$.Map.Item.Value.contacts"),
            },
            max_concurrency=config.campaigns.max_concurrency,
            # Never the batches' answers in the run's state (256 KB): their counts are in the table.
            result_path=sfn.JsonPath.DISCARD,
            label=MAP_LABEL,
            map_execution_type=sfn.StateMachineType.STANDARD,
        )
        send = self._task(
            "Send batch",
            {
                "action": "batch",
                "run_id": sfn.JsonPath.string_at("$.run_id"),
                "batch": sfn.JsonPath.number_at("$.batch"),
                "contacts": sfn.JsonPath.list_at("$.contacts"),
                "retry_count": sfn.JsonPath.number_at("$$.State.RetryCount"),
            },
            result_path=None,
            retry=False,
        )
        send.add_retry(
            errors=[CAMPAIGN_PAUSED],
            interval=PAUSED_INTERVAL,
            backoff_rate=1,
            max_attempts=PAUSED_MAX_ATTEMPTS,
        )
        send.add_retry(
            errors=[BATCH_UNFINISHED],
            interval=UNFINISHED_INTERVAL,
            backoff_rate=1,
            max_attempts=UNFINISHED_MAX_ATTEMPTS,
        )
        add_retry(send, BACKOFF_ERRORS)
        batches.item_processor(send)
        return batches

    def _task(
        self,
        state_name: str,
        payload: Mapping[str, object],
        *,
        result_path: str | None,
        retry: bool = True,
    ) -> tasks.LambdaInvoke:
        task = tasks.LambdaInvoke(
            self,
            state_name,
            lambda_function=self.function,
            payload=sfn.TaskInput.from_object(dict(payload)),
            # The function's own answer, without the invoke envelope.
            payload_response_only=True,
            # One retry policy (R-REL-4: one layer); CDK's default would add a second.
            retry_on_service_exceptions=False,
            result_path=result_path,
        )
        if retry:
            add_retry(task, BACKOFF_ERRORS)
        return task

    def _acknowledge_map_grants(self, state_machine: sfn.StateMachine) -> None:
        role = state_machine.role
        nag.acknowledge(
            role,
            f"AwsSolutions-IAM5[Resource::<{logical_id(self.bucket)}.Arn>/{SNAPSHOT_PREFIX}/*]",
            "The Distributed Map reads the run's own snapshot; its key holds the run id, known only"
            " when the run starts, so the grant covers the snapshot prefix.",
        )
        # CDK names the executions by the machine's name cut out of its ARN (a Ref).
        machine = logical_id(state_machine)
        name = f'{{"Fn::Select":[6,{{"Fn::Split":[":",{{"Ref":"{machine}"}}]}}]}}'
        for resource in (f"execution:{name}:*", f"execution:{name}/{MAP_LABEL}:*"):
            nag.acknowledge(
                state_machine,
                f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:{resource}]",
                "CDK's Distributed Map grant: the run's child executions (one per batch, named by"
                " Step Functions) are described, stopped and redriven by the run itself.",
            )

    # Grants -----------------------------------------------------------------------------

    def grant_snapshots(self, function: lambda_.Function) -> None:
        """Write a run's snapshot (only if absent) and read it back; list the bucket so that a
        missing snapshot reads as absent (404), not as forbidden."""
        function.add_environment(names.ENV_CAMPAIGNS_BUCKET, self.bucket.bucket_name)
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject", "s3:PutObject"],
                resources=[self.bucket.arn_for_objects(f"{SNAPSHOT_PREFIX}/*")],
            )
        )
        function.add_to_role_policy(
            iam.PolicyStatement(actions=["s3:ListBucket"], resources=[self.bucket.bucket_arn])
        )
        role = function.role
        assert role is not None
        nag.acknowledge(
            role,
            f"AwsSolutions-IAM5[Resource::<{logical_id(self.bucket)}.Arn>/{SNAPSHOT_PREFIX}/*]",
            "One snapshot per run, keyed by the run id: the grant covers the snapshot prefix.",
        )

    def grant_stop(self, function: lambda_.Function) -> None:
        """Stop a run's execution (a cancel): StopExecution on the campaign machine's executions."""
        function.add_to_role_policy(
            iam.PolicyStatement(actions=["states:StopExecution"], resources=[self._executions_arn()])
        )
        role = function.role
        assert role is not None
        nag.acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:"
            f"execution:{self.state_machine_name}:*]",
            "A cancel stops the run's execution, named by its run id when the run starts.",
        )

    def _executions_arn(self) -> str:
        return Stack.of(self).format_arn(
            service="states",
            resource="execution",
            resource_name=f"{self.state_machine_name}:*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )

    def grant_start(self, function: lambda_.Function) -> None:
        """Start campaign runs: the state machine's ARN in the function's settings, and
        StartExecution on it alone."""
        function.add_environment(names.ENV_CAMPAIGN_STATE_MACHINE_ARN, self.state_machine_arn)
        function.add_to_role_policy(
            iam.PolicyStatement(actions=["states:StartExecution"], resources=[self.state_machine_arn])
        )
