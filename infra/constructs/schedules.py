"""EventBridge Scheduler: one schedule per scheduled journey, and the weekly review digest's.

A journey with `trigger: {schedule: "cron(...)", segment: ID}` gets an `AWS::Scheduler::Schedule`
(the DSL's expression, UTC, flexible time window OFF) whose target is ScheduleFunction with the
input `{"journey": ID, "scheduled_time": "<aws.scheduler.scheduled-time>"}`: Scheduler fills in
the time the schedule was due, so every retry of one firing carries the same idempotency key.
The review digest's schedule (cdk.json `review.digestSchedule`, UTC) is always there: its input
is `{"digest": "review", "scheduled_time": ...}`, and each owner's digest is sent once per ISO
week of that time (`baton.inventory.digest`).

Failures, twice covered: Scheduler retries delivering the invocation (retry policy) and sends
what it cannot deliver to the dead-letter queue; the function's own errors are retried by Lambda
(asynchronous invocation) and then go to the same queue. An alarm watches the queue (R-REL-5).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Final

from aws_cdk import Aws, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from baton.journeys.models import Journey
from baton.schedules.expressions import validate
from infra import nag, names
from infra.config import BatonConfig
from infra.constructs.data_plane import DataPlane
from infra.constructs.delivery import Delivery
from infra.constructs.journeys import Journeys
from infra.constructs.secrets import Secrets
from infra.lambda_function import baton_function
from infra.nag import logical_id

# Scheduler's own context attribute: the time the schedule was due (not when it ran).
SCHEDULED_TIME: Final = "<aws.scheduler.scheduled-time>"
SCHEDULE_TIMEZONE: Final = "UTC"  # the DSL's schedules are UTC
MAX_SCHEDULE_NAME: Final = 64
RETRY_ATTEMPTS: Final = 5
MAX_EVENT_AGE: Final = Duration.hours(6)
DIGEST_SCHEDULE_ID: Final = "ReviewDigestSchedule"


def schedule_input(journey_id: str) -> str:
    """The target input: the journey, and the time Scheduler fills in."""
    return json.dumps({"journey": journey_id, "scheduled_time": SCHEDULED_TIME}, separators=(",", ":"))


def digest_input() -> str:
    """The review digest's target input (`baton.schedules.firings.DigestFiring`)."""
    return json.dumps({"digest": "review", "scheduled_time": SCHEDULED_TIME}, separators=(",", ":"))


class Schedules(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: BatonConfig,
        journeys: Journeys,
        code: lambda_.Code,
        environment: Mapping[str, str],
        data: DataPlane,
        secrets: Secrets,
        delivery: Delivery,
    ) -> None:
        super().__init__(scope, construct_id)
        self.journeys: Sequence[Journey] = [j for j in journeys.journeys if j.trigger.schedule is not None]
        self.schedules: dict[str, scheduler.CfnSchedule] = {}
        stack_name = Stack.of(self).stack_name
        self.dead_letter_queue = self._build_dead_letter_queue()
        function = baton_function(
            self,
            names.SCHEDULE_FUNCTION,
            code=code,
            environment=environment,
            config=config,
            description=(
                "Baton schedules: starts a scheduled journey for every contact of its segment;"
                " mails the owners their weekly review digest."
            ),
            dead_letter_queue=self.dead_letter_queue,
        )
        # The same grants as every Baton function (the composition root wires every service).
        data.grant_read_write(function)
        secrets.grant_read(function)
        delivery.grant_send(function)
        journeys.grant_executions(function)
        self.function = function
        self.role = iam.Role(
            self,
            "SchedulerRole",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            ),
            description="EventBridge Scheduler: invokes ScheduleFunction, dead-letters what it cannot.",
        )
        function.grant_invoke(self.role)
        self.dead_letter_queue.grant_send_messages(self.role)
        nag.acknowledge(
            self.role,
            f"AwsSolutions-IAM5[Resource::<{logical_id(function)}.Arn>:*]",
            "CDK's invoke grant: the function's versions and aliases (`<arn>:*`) besides $LATEST.",
        )
        for journey in self.journeys:
            expression = journey.trigger.schedule
            assert expression is not None
            self.schedules[journey.journey] = self._schedule(
                f"{journey.journey}Schedule",
                name=names.state_machine_name(stack_name, journey.journey),
                description=f"Journey {journey.journey} for segment {journey.trigger.segment}",
                expression=expression,
                target_input=schedule_input(journey.journey),
            )
        self.digest_schedule = self._schedule(
            DIGEST_SCHEDULE_ID,
            name=names.digest_schedule_name(stack_name),
            description="The weekly review digest: each owner is mailed what needs them (once a week)",
            expression=config.review.digest_schedule,
            target_input=digest_input(),
        )

    def _schedule(
        self, construct_id: str, *, name: str, description: str, expression: str, target_input: str
    ) -> scheduler.CfnSchedule:
        """A schedule in UTC without a flexible window, targeting ScheduleFunction with Scheduler's
        retries and the dead-letter queue."""
        validate(expression, SCHEDULE_TIMEZONE)  # the catalog and the config validated it
        if len(name) > MAX_SCHEDULE_NAME:
            raise ValueError(
                f"schedule name {name!r} is longer than {MAX_SCHEDULE_NAME} characters:"
                " shorten the stack name or the journey id"
            )
        return scheduler.CfnSchedule(
            self,
            construct_id,
            name=name,
            description=description,
            schedule_expression=expression,
            schedule_expression_timezone=SCHEDULE_TIMEZONE,
            flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
            state="ENABLED",
            target=scheduler.CfnSchedule.TargetProperty(
                arn=self.function.function_arn,
                role_arn=self.role.role_arn,
                input=target_input,
                retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(
                    maximum_retry_attempts=RETRY_ATTEMPTS,
                    maximum_event_age_in_seconds=int(MAX_EVENT_AGE.to_seconds()),
                ),
                dead_letter_config=scheduler.CfnSchedule.DeadLetterConfigProperty(
                    arn=self.dead_letter_queue.queue_arn
                ),
            ),
        )

    def _build_dead_letter_queue(self) -> sqs.Queue:
        queue = sqs.Queue(
            self,
            "ScheduleDeadLetterQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        nag.acknowledge(
            queue,
            "AwsSolutions-SQS3",
            "This queue is itself the dead-letter queue of the schedules and ScheduleFunction.",
        )
        cloudwatch.Alarm(
            self,
            "ScheduleDeadLetterAlarm",
            alarm_description=(
                "R-REL-5: a scheduled journey run or the review digest failed after its retries"
                " (some contacts of the segment may not have started, some owners not been mailed);"
                " read the message, fix, and invoke ScheduleFunction with it again (a run is"
                " idempotent per schedule time, the digest per owner and week)."
            ),
            metric=queue.metric_approximate_number_of_messages_visible(period=Duration.minutes(1)),
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        return queue
