"""Delivery: the SES sending identity and configuration set, the account-level suppression list,
SMS publish rights, and inbound SMS.

R-SES-3: SES's account-level suppression list is turned on for bounces and complaints (an
`AwsCustomResource` calling `PutAccountSuppressionAttributes`; CloudFormation has no resource
for it), on top of Baton's own suppression list. R-SES-4: no SES contact list; Baton's consent
ledger is the source of truth for who may get what.

Inbound two-way SMS arrive on an SNS topic (End User Messaging / SNS two-way SMS publishes
there) and invoke SmsInboundFunction. Failures land in a dead-letter queue with an alarm on its
depth (R-REL-5); redrive by sending the queued messages back to the function.
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Aws, CfnOutput, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_ses as ses
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk import custom_resources as cr
from constructs import Construct

from infra import nag
from infra.config import BatonConfig

# The service that publishes inbound texts to the topic (End User Messaging SMS, two-way SMS).
SMS_SERVICE_PRINCIPAL = "sms-voice.amazonaws.com"
# R-SES-3: what SES's account-level suppression list adds addresses for.
ACCOUNT_SUPPRESSED_REASONS = ("BOUNCE", "COMPLAINT")
# What SendTextMessage / SendVoiceMessage may name: the origination identity and configuration set.
_SMS_VOICE_RESOURCES = ("phone-number", "pool", "sender-id", "configuration-set")


class Delivery(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: BatonConfig) -> None:
        super().__init__(scope, construct_id)
        self.configuration_set = self._build_configuration_set(config)
        self.sender_identity = self._build_sender_identity(config)
        self.account_suppression = self._build_account_suppression(config)
        self.inbound_sms_topic = self._build_inbound_sms_topic()
        self.dead_letter_queue = self._build_dead_letter_queue()

    def _build_configuration_set(self, config: BatonConfig) -> ses.ConfigurationSet:
        """Open and click tracking come from the event destination (`Feedback`, only where
        `tracking` turns them on); a custom redirect domain, if any, serves their links over
        HTTPS only, as the links say who opened what."""
        redirect_domain = config.tracking.redirect_domain
        return ses.ConfigurationSet(
            self,
            "ConfigurationSet",
            reputation_metrics=True,
            sending_enabled=True,
            tls_policy=ses.ConfigurationSetTlsPolicy.REQUIRE,
            suppression_reasons=ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS,
            custom_tracking_redirect_domain=redirect_domain,
            custom_tracking_https_policy=ses.HttpsPolicy.REQUIRE if redirect_domain else None,
        )

    def _build_sender_identity(self, config: BatonConfig) -> ses.EmailIdentity:
        """The sender's domain with Easy DKIM (R-MBX-5); SPF and DMARC are DNS records it documents."""
        domain = config.sender_domain
        identity = ses.EmailIdentity(
            self,
            "SenderIdentity",
            identity=ses.Identity.domain(domain),
            configuration_set=self.configuration_set,
            dkim_identity=ses.DkimIdentity.easy_dkim(ses.EasyDkimSigningKeyLength.RSA_2048_BIT),
            dkim_signing=True,
        )
        for number, (name, value) in enumerate(
            [
                (identity.dkim_dns_token_name1, identity.dkim_dns_token_value1),
                (identity.dkim_dns_token_name2, identity.dkim_dns_token_value2),
                (identity.dkim_dns_token_name3, identity.dkim_dns_token_value3),
            ],
            start=1,
        ):
            CfnOutput(
                self,
                f"DkimRecord{number}",
                description="Easy DKIM: publish as a CNAME",
                value=f"{name} CNAME {value}",
            )
        CfnOutput(
            self,
            "DmarcRecord",
            description="R-MBX-5: publish this TXT record (p=none at least) for the sender domain",
            value=f'_dmarc.{domain} TXT "v=DMARC1; p=none; rua=mailto:dmarc-reports@{domain}"',
        )
        return identity

    def _build_account_suppression(self, config: BatonConfig) -> cr.AwsCustomResource:
        """R-SES-3: the account-level suppression list on for bounces and complaints. Left on
        when the stack goes: it protects every sender in the account, and turning it off is
        an operator's decision, not a side effect of removing Baton."""
        call = cr.AwsSdkCall(
            service="SESv2",
            action="putAccountSuppressionAttributes",
            parameters={"SuppressedReasons": list(ACCOUNT_SUPPRESSED_REASONS)},
            physical_resource_id=cr.PhysicalResourceId.of("baton-ses-account-suppression"),
        )
        # An own role and log group, like every Baton function (no managed policy, set retention).
        log_group = logs.LogGroup(self, "AccountSuppressionLogs", retention=config.log_retention)
        role = iam.Role(
            self,
            "AccountSuppressionRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Turns on SES account-level suppression for bounces and complaints (R-SES-3)",
        )
        log_group.grant_write(role)
        resource = cr.AwsCustomResource(
            self,
            "AccountSuppression",
            on_create=call,
            on_update=call,
            # The IAM action is ses:, not the SDK's sesv2: prefix that CDK would derive.
            policy=cr.AwsCustomResourcePolicy.from_statements(
                [iam.PolicyStatement(actions=["ses:PutAccountSuppressionAttributes"], resources=["*"])]
            ),
            role=role,
            log_group=log_group,
            install_latest_aws_sdk=False,  # the runtime's SDK has the call; no download at deploy
        )
        nag.acknowledge(
            resource,
            "AwsSolutions-IAM5[Resource::*]",
            "SES account-level settings (PutAccountSuppressionAttributes) have no resource ARN:"
            " IAM requires Resource '*'.",
        )
        return resource

    def _build_inbound_sms_topic(self) -> sns.Topic:
        key = kms.Key(
            self,
            "InboundSmsKey",
            description="Baton: encrypts inbound SMS (phone numbers and message text) at rest in SNS.",
            enable_key_rotation=True,
        )
        # The SMS service encrypts what it publishes with this key, so it needs the data-key calls.
        key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal(SMS_SERVICE_PRINCIPAL)],
                actions=["kms:GenerateDataKey*", "kms:Decrypt"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            )
        )
        topic = sns.Topic(
            self,
            "InboundSmsTopic",
            display_name="Baton inbound SMS",
            master_key=key,
            enforce_ssl=True,
        )
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal(SMS_SERVICE_PRINCIPAL)],
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            )
        )
        return topic

    def _build_dead_letter_queue(self) -> sqs.Queue:
        queue = sqs.Queue(
            self,
            "SmsInboundDeadLetterQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        cloudwatch.Alarm(
            self,
            "SmsInboundDeadLetterAlarm",
            alarm_description=(
                "R-REL-5: an inbound SMS failed processing (a STOP may be unhandled); inspect and redrive."
            ),
            metric=queue.metric_approximate_number_of_messages_visible(period=Duration.minutes(1)),
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        return queue

    def subscribe_sms_inbound(self, function: lambda_.Function) -> None:
        """The function receives every inbound text; after retries a failure goes to the DLQ."""
        function.configure_async_invoke(retry_attempts=2, max_event_age=Duration.hours(6))
        self.inbound_sms_topic.add_subscription(
            subscriptions.LambdaSubscription(function, dead_letter_queue=self.dead_letter_queue)
        )

    def grant_send(self, function: lambda_.Function) -> None:
        """Email through SES v2 from the sender identity; SMS through SNS to phone numbers, or through
        End User Messaging with voice and WhatsApp when they are configured."""
        stack = Stack.of(self)
        configuration_set_arn = stack.format_arn(
            service="ses",
            resource="configuration-set",
            resource_name=self.configuration_set.configuration_set_name,
            arn_format=ArnFormat.SLASH_RESOURCE_NAME,
        )
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["ses:SendEmail", "ses:SendRawEmail"],
                resources=[self.sender_identity.email_identity_arn, configuration_set_arn],
            )
        )
        role = function.role
        assert role is not None
        sms_policy = iam.Policy(
            self,
            f"{function.node.id}SmsPublish",
            statements=[iam.PolicyStatement(actions=["sns:Publish"], resources=["*"])],
        )
        sms_policy.attach_to_role(role)
        nag.acknowledge(
            sms_policy,
            "AwsSolutions-IAM5[Resource::*]",
            "SNS Publish to a phone number (SMS) has no resource ARN: IAM requires Resource '*'.",
        )
        self._grant_end_user_messaging(function, role)
        # R-SES-1: the account's limits before each email and, in the sandbox, whether the
        # recipient (an address, or its domain) is a verified identity.
        account_policy = iam.Policy(
            self,
            f"{function.node.id}SesAccountRead",
            statements=[
                iam.PolicyStatement(actions=["ses:GetAccount"], resources=["*"]),
                iam.PolicyStatement(
                    actions=["ses:GetEmailIdentity"],
                    resources=[stack.format_arn(service="ses", resource="identity", resource_name="*")],
                ),
            ],
        )
        account_policy.attach_to_role(role)
        nag.acknowledge(
            account_policy,
            "AwsSolutions-IAM5[Resource::*]",
            "SES GetAccount reads the account's quota and send rate (R-SES-1): it has no resource ARN.",
        )
        nag.acknowledge(
            account_policy,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ses:<AWS::Region>:<AWS::AccountId>:identity/*]",
            "In the SES sandbox any recipient may be a verified identity (R-SES-1): the check reads"
            " the identity named by the recipient's address or domain, which no deploy can list.",
        )

    def _grant_end_user_messaging(self, function: lambda_.Function, role: iam.IRole) -> None:
        """SMS and voice through End User Messaging, WhatsApp through End User Messaging Social: once
        configured, every message of that channel goes that way, Baton's own replies too."""
        stack = Stack.of(self)
        sms_voice = [
            stack.format_arn(service="sms-voice", resource=kind, resource_name="*")
            for kind in _SMS_VOICE_RESOURCES
        ]
        whatsapp = stack.format_arn(service="social-messaging", resource="phone-number-id", resource_name="*")
        policy = iam.Policy(
            self,
            f"{function.node.id}EndUserMessagingSend",
            statements=[
                iam.PolicyStatement(
                    actions=["sms-voice:SendTextMessage", "sms-voice:SendVoiceMessage"], resources=sms_voice
                ),
                iam.PolicyStatement(actions=["social-messaging:SendWhatsAppMessage"], resources=[whatsapp]),
            ],
        )
        policy.attach_to_role(role)
        arn_prefix = "arn:<AWS::Partition>:{service}:<AWS::Region>:<AWS::AccountId>:{kind}/*"
        for kind in _SMS_VOICE_RESOURCES:
            nag.acknowledge(
                policy,
                f"AwsSolutions-IAM5[Resource::{arn_prefix.format(service='sms-voice', kind=kind)}]",
                "The origination identity (phone number, pool or sender id) and the configuration set"
                " are operator settings read at run time; the grant is bounded to this account and region.",
            )
        whatsapp_id = arn_prefix.format(service="social-messaging", kind="phone-number-id")
        nag.acknowledge(
            policy,
            f"AwsSolutions-IAM5[Resource::{whatsapp_id}]",
            "The WhatsApp business phone number id is an operator setting read at run time; the grant"
            " is bounded to this account and region.",
        )
