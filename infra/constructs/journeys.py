"""Journeys: one Standard state machine per journey of the catalog, and the function behind every task.

The catalog (`journeys/`) is validated at synth: an invalid journey fails synth with the
catalog's own error text. Every task of every state machine invokes JourneyStepFunction (one
function, one payload); the private API's function starts, stops and describes their executions. State
machines log every state (without execution data: it holds contact ids and event data) to one
log group and trace with X-Ray.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from baton.journeys.catalog import load_catalog
from baton.journeys.models import Journey
from infra import nag, names
from infra.config import BatonConfig
from infra.constructs.data_plane import DataPlane
from infra.constructs.delivery import Delivery
from infra.constructs.secrets import Secrets
from infra.journeys.compiler import compile_journey
from infra.lambda_function import baton_function
from infra.nag import logical_id

# Step Functions' own limit on state machine names.
_MAX_STATE_MACHINE_NAME = 80


def standard_state_machine(
    scope: Construct,
    construct_id: str,
    *,
    name: str,
    comment: str,
    definition: sfn.IChainable,
    function: lambda_.Function,
    log_group: logs.ILogGroup,
    failed: str,
) -> sfn.StateMachine:
    """A Standard state machine whose tasks invoke `function`, as Baton runs them all: JSONPath,
    every state logged without execution data (it holds contact ids), traced, and an alarm
    (described by `failed`) when an execution fails (R-REL-5)."""
    state_machine = sfn.StateMachine(
        scope,
        construct_id,
        state_machine_name=name,
        state_machine_type=sfn.StateMachineType.STANDARD,
        comment=comment,
        definition_body=sfn.DefinitionBody.from_chainable(definition),
        query_language=sfn.QueryLanguage.JSON_PATH,
        logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
        tracing_enabled=True,
    )
    role = state_machine.role
    nag.acknowledge(
        role,
        f"AwsSolutions-IAM5[Resource::<{logical_id(function)}.Arn>:*]",
        "CDK's Lambda task grant: the function's versions and aliases (`<arn>:*`) besides $LATEST.",
    )
    nag.acknowledge(
        role,
        "AwsSolutions-IAM5[Resource::*]",
        "Step Functions log delivery (logs:CreateLogDelivery and friends) and X-Ray"
        " (PutTraceSegments) have no resource-level permissions.",
    )
    cloudwatch.Alarm(
        scope,
        "ExecutionsFailed",
        alarm_description=failed,
        metric=state_machine.metric_failed(period=Duration.minutes(5)),
        threshold=1,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluation_periods=1,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )
    return state_machine


def state_machine_arn_prefix(scope: Construct) -> str:
    """`arn:aws:states:<region>:<account>:stateMachine:<stackName>-`: a journey's state machine
    ARN without the journey id. Built from names, so whoever gets it needs no reference to the
    state machines (the private API's function would otherwise depend on all of them)."""
    stack = Stack.of(scope)
    return stack.format_arn(
        service="states",
        resource="stateMachine",
        resource_name=names.state_machine_name(stack.stack_name, ""),
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )


class Journeys(Construct):
    """The JourneyStepFunction and one state machine per journey of `journeys_dir`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: BatonConfig,
        journeys_dir: Path,
        code: lambda_.Code,
        environment: Mapping[str, str],
        data: DataPlane,
        secrets: Secrets,
        delivery: Delivery,
    ) -> None:
        super().__init__(scope, construct_id)
        self._stack_name = Stack.of(self).stack_name
        self._config, self._data, self._secrets, self._delivery = config, data, secrets, delivery
        # Raises CatalogError (every issue as `file:line: key: message`): synth fails with it.
        # Strict about approval: content edited after legal approved it does not deploy.
        catalog = load_catalog(
            journeys_dir,
            sms_max_parts=config.sms_max_parts,
            locales=config.locales,
            approve_transactional=config.approvals.transactional,
        )
        self.journeys = sorted(catalog.journeys.values(), key=lambda journey: journey.journey)
        self.function = self._build_function(config, code, environment)
        self.log_group = logs.LogGroup(self, "StateMachineLogs", retention=config.log_retention)
        self.state_machines: dict[str, sfn.StateMachine] = {
            journey.journey: self._build_state_machine(journey) for journey in self.journeys
        }
        # A long run goes on in a new execution of its own state machine (R-REL-1), started by
        # its own task; an exit while it is handed on stops the new one.
        self.grant_executions(self.function)

    def _build_function(
        self, config: BatonConfig, code: lambda_.Code, environment: Mapping[str, str]
    ) -> lambda_.Function:
        function = baton_function(
            self,
            names.JOURNEY_STEP_FUNCTION,
            code=code,
            environment=environment,
            config=config,
            description="Baton journeys: every task of every journey (send through the gate, branch, end).",
        )
        self.grant_sending(function)
        return function

    def grant_sending(self, function: lambda_.Function) -> None:
        """What a send through the gate needs, for the journey function and any other function
        that sends as it does (a campaign's batches): every table, the secrets, every channel,
        and the operator's webhook secret when one is configured."""
        self._data.grant_read_write(function)
        self._secrets.grant_read(function)
        self._delivery.grant_send(function)
        webhook_secret_arn = self._config.delivery.get("webhook_secret_arn")
        if webhook_secret_arn:
            # The operator's own secret for webhook signatures (else one derived from the token key).
            secretsmanager.Secret.from_secret_complete_arn(
                self, f"{function.node.id}WebhookSecret", webhook_secret_arn
            ).grant_read(function)

    def _build_state_machine(self, journey: Journey) -> sfn.StateMachine:
        name = names.state_machine_name(self._stack_name, journey.journey)
        if len(name) > _MAX_STATE_MACHINE_NAME:
            raise ValueError(
                f"state machine name {name!r} is longer than {_MAX_STATE_MACHINE_NAME} characters:"
                " shorten the stack name or the journey id"
            )
        # One scope per journey: state names are construct ids and repeat across journeys.
        scope = Construct(self, journey.journey)
        return standard_state_machine(
            scope,
            "StateMachine",
            name=name,
            comment=f"Journey {journey.journey} ({journey.purpose.value}), owned by {journey.owner}",
            definition=compile_journey(scope, journey, function=self.function),
            function=self.function,
            log_group=self.log_group,
            failed=(
                f"R-REL-5: an execution of journey {journey.journey} failed (a task error, not a"
                " skipped send): read its history, fix, and redrive it within 14 days."
            ),
        )

    def grant_executions(self, function: lambda_.Function) -> None:
        """Start the journeys' executions, and stop and describe them (exit_on)."""
        stack = Stack.of(self)
        machine_names = [names.state_machine_name(self._stack_name, j.journey) for j in self.journeys]
        if not machine_names:
            return
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["states:StartExecution"],
                resources=[
                    stack.format_arn(
                        service="states",
                        resource="stateMachine",
                        resource_name=name,
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    )
                    for name in machine_names
                ],
            )
        )
        execution_arns = [
            stack.format_arn(
                service="states",
                resource="execution",
                resource_name=f"{name}:*",
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            )
            for name in machine_names
        ]
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["states:StopExecution", "states:DescribeExecution"], resources=execution_arns
            )
        )
        role = function.role
        assert role is not None
        for name in machine_names:
            nag.acknowledge(
                role,
                f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{name}:*]",
                "Executions get deterministic names per event (R-REL-2): the ARN of one not yet"
                " started is unknown, so the grant covers this journey's executions.",
            )
