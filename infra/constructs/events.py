"""The Baton event bus: other systems' events start journeys exactly as
`POST /v1/events` does, and resume the journeys waiting for them.

Envelope (documented in the README): `source` any, `detail-type` = the event type,
`detail` = `{"contact_id", "data", "idempotency_key"}`. A rule on the custom bus matches every
event carrying a contact id and an idempotency key and invokes EventsFunction
(`baton.handlers.bus_events.handler`), which calls `EventService.record`.

R-REL-5: EventBridge retries delivery for a day, and Lambda retries a failed asynchronous
invocation twice; what still fails lands in one dead-letter queue (the rule target's for
deliveries EventBridge could not make, the function's for invocations that raised), with an
alarm on its depth. Redrive: fix the cause, then put each queued message's event back on the
bus (`aws events put-events`; the idempotency key makes a repeat start nothing twice).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from aws_cdk import ArnFormat, CfnOutput, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import names

# The envelope fields a Baton event carries in `detail` (detail-type is the event type).
ENVELOPE_FIELDS: Final = ("contact_id", "idempotency_key")
MAX_EVENT_AGE: Final = Duration.hours(24)
RETRY_ATTEMPTS: Final = 185  # EventBridge's maximum: keep retrying for the whole day


class Events(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.bus = events.EventBus(self, "Bus", event_bus_name=names.event_bus_name(stack.stack_name))
        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        self.alarm = cloudwatch.Alarm(
            self,
            "DeadLetterAlarm",
            alarm_description=(
                "R-REL-5: an event from the Baton bus was not recorded (no journey started or resumed"
                " for it); read the message's error attributes, fix, and put the event back on the bus."
            ),
            metric=self.dead_letter_queue.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(1)
            ),
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        CfnOutput(
            self,
            "BusName",
            description=(
                "Put Baton events here: detail-type = the event type,"
                " detail = {contact_id, data, idempotency_key}"
            ),
            value=self.bus.event_bus_name,
        )

    def route_to(self, function: lambda_.IFunction) -> events.Rule:
        """The rule: every event with Baton's envelope -> `function` (EventsFunction)."""
        rule = events.Rule(
            self,
            "BatonEvents",
            event_bus=self.bus,
            description="Events with Baton's envelope start and resume journeys (like POST /v1/events).",
            event_pattern=events.EventPattern(
                detail={field: [{"exists": True}] for field in ENVELOPE_FIELDS},
            ),
        )
        rule.add_target(
            targets.LambdaFunction(
                function,
                dead_letter_queue=self.dead_letter_queue,
                max_event_age=MAX_EVENT_AGE,
                retry_attempts=RETRY_ATTEMPTS,
            )
        )
        return rule


def grant_resume(function: lambda_.Function, journey_ids: Iterable[str]) -> None:
    """SendTaskSuccess on the journeys' state machines: a function that records events resumes
    the executions waiting for them (`baton.waits`). ARNs from names, like the execution grants."""
    stack = Stack.of(function)
    arns = [
        stack.format_arn(
            service="states",
            resource="stateMachine",
            resource_name=names.state_machine_name(stack.stack_name, journey_id),
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        for journey_id in journey_ids
    ]
    if arns:
        function.add_to_role_policy(iam.PolicyStatement(actions=["states:SendTaskSuccess"], resources=arns))
