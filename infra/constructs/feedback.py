"""Delivery feedback: receipts, bounces and complaints reach FeedbackFunction.

- SES: the configuration set publishes bounce, complaint, delivery and reject events to the
  account's default EventBridge bus (an EventBridge event destination); a rule on `aws.ses`
  routes them to FeedbackFunction (`baton.handlers.feedback.handler`): hard bounces and
  complaints suppress the address, complaints revoke marketing email consent (R-SES-3).
  Open and click events are published and routed only where cdk.json's `tracking` turns
  them on: the figures count them, nothing else reads them.
- End User Messaging SMS and voice (`aws.sms-voice`) and WhatsApp (`aws.social-messaging`)
  put their delivery-status events on the default bus themselves; a rule routes them too.
- SNS SMS: SNS writes delivery status to CloudWatch Logs (`sns/<region>/<account>/
  DirectPublishToPhoneNumber[/Failure]`) once the account's SMS attribute
  `DeliveryStatusIAMRole` names `SmsDeliveryStatusRole` (output); subscription filters send
  those records to FeedbackFunction.
R-REL-5: EventBridge retries a target for a day and Lambda retries a failed asynchronous
invocation twice; what still fails lands in one dead-letter queue (the rules' target DLQ and
the function's) with an alarm on its depth. Redrive: fix the cause, then put each queued event
back on the default bus (`aws events put-events`); a receipt handled before changes nothing.
"""

from __future__ import annotations

from typing import Final

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_logs_destinations as log_destinations
from aws_cdk import aws_ses as ses
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from baton.feedback.events import (
    SES_DETAIL_TYPES,
    SES_ENGAGEMENT_DETAIL_TYPES,
    SES_SOURCE,
    SMS_VOICE_DETAIL_TYPES,
    SMS_VOICE_SOURCE,
    SOCIAL_SOURCE,
    WHATSAPP_DETAIL_TYPES,
)
from infra import nag
from infra.config import TrackingConfig

MAX_EVENT_AGE: Final = Duration.hours(24)
RETRY_ATTEMPTS: Final = 185  # EventBridge's maximum: keep retrying for the whole day
SES_EVENTS: Final = (
    ses.EmailSendingEvent.BOUNCE,
    ses.EmailSendingEvent.COMPLAINT,
    ses.EmailSendingEvent.DELIVERY,
    ses.EmailSendingEvent.REJECT,
)
SNS_SMS_LOG_GROUPS: Final = ("DirectPublishToPhoneNumber", "DirectPublishToPhoneNumber/Failure")


class Feedback(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        configuration_set: ses.IConfigurationSet,
        tracking: TrackingConfig,
    ) -> None:
        super().__init__(scope, construct_id)
        self._engagement = _engagement(tracking)  # detail-type -> SES event, each turned on
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
                "R-REL-5: a delivery receipt, bounce or complaint was not handled (an address may be"
                " unsuppressed, a journey may wait for nothing); fix, then put the event back on the bus."
            ),
            metric=self.dead_letter_queue.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(1)
            ),
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.default_bus = events.EventBus.from_event_bus_name(self, "DefaultBus", "default")
        # SES's events go to the default bus (the only bus an SES EventBridge destination may use).
        ses.ConfigurationSetEventDestination(
            self,
            "SesToEventBridge",
            configuration_set=configuration_set,
            destination=ses.EventDestination.event_bus(self.default_bus),
            events=[*SES_EVENTS, *self._engagement.values()],
        )
        self.sms_status_role = self._build_sms_status_role()

    def _build_sms_status_role(self) -> iam.Role:
        role = iam.Role(
            self,
            "SmsDeliveryStatusRole",
            assumed_by=iam.ServicePrincipal("sns.amazonaws.com"),
            description="SNS writes SMS delivery status to CloudWatch Logs (account SMS attribute).",
        )
        stack = Stack.of(self)
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:sns/*"],
            )
        )
        nag.acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:sns/*]",
            "SNS names its SMS delivery-status log groups itself, all under sns/.",
        )
        CfnOutput(
            self,
            "SmsDeliveryStatusRoleArn",
            description="Set as the account's SNS SMS attribute DeliveryStatusIAMRole (SMS receipts)",
            value=role.role_arn,
        )
        return role

    def route_to(self, function: lambda_.IFunction) -> list[events.Rule]:
        """The rules and subscriptions that bring every receipt to `function` (FeedbackFunction)."""
        patterns = {
            "SesEvents": (
                SES_SOURCE,
                (*SES_DETAIL_TYPES, *self._engagement),
                ", ".join(("SES bounces, complaints, deliveries, rejects", *self._engagement)),
            ),
            "SmsVoiceEvents": (
                SMS_VOICE_SOURCE,
                SMS_VOICE_DETAIL_TYPES,
                "End User Messaging SMS/voice status",
            ),
            "WhatsAppEvents": (SOCIAL_SOURCE, WHATSAPP_DETAIL_TYPES, "End User Messaging WhatsApp status"),
        }
        rules: list[events.Rule] = []
        for rule_id, (source, detail_types, description) in patterns.items():
            rule = events.Rule(
                self,
                rule_id,
                event_bus=self.default_bus,
                description=f"Delivery feedback: {description}.",
                event_pattern=events.EventPattern(source=[source], detail_type=list(detail_types)),
            )
            rule.add_target(
                targets.LambdaFunction(
                    function,
                    dead_letter_queue=self.dead_letter_queue,
                    max_event_age=MAX_EVENT_AGE,
                    retry_attempts=RETRY_ATTEMPTS,
                )
            )
            rules.append(rule)
        stack = Stack.of(self)
        for number, name in enumerate(SNS_SMS_LOG_GROUPS):
            # Created here (SNS would create them on the first SMS), so the subscription has a
            # group to attach to on the first deploy; an account that already has them imports them.
            group = logs.LogGroup(
                self,
                f"SnsSmsLogs{number}",
                log_group_name=f"sns/{stack.region}/{stack.account}/{name}",
                retention=logs.RetentionDays.ONE_MONTH,
            )
            logs.SubscriptionFilter(
                self,
                f"SnsSmsStatus{number}",
                log_group=group,
                destination=log_destinations.LambdaDestination(function),
                filter_pattern=logs.FilterPattern.all_events(),
            )
        return rules


def _engagement(tracking: TrackingConfig) -> dict[str, ses.EmailSendingEvent]:
    """The SES detail-type and event of each kind of tracking turned on (none by default)."""
    turned_on = {"Open": tracking.opens, "Click": tracking.clicks}
    published = {"Open": ses.EmailSendingEvent.OPEN, "Click": ses.EmailSendingEvent.CLICK}
    return {SES_ENGAGEMENT_DETAIL_TYPES[kind]: published[kind] for kind, on in turned_on.items() if on}
