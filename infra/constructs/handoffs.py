"""Hand-off queues: one SNS topic per queue a journey hands tasks to.

Every queue named in the catalog (`handoff.queue`, `handoff.escalate_to`) and every queue of
cdk.json's `queues` gets a topic (KMS-encrypted, TLS only); the journey task function publishes
a message there for each new task, and sends an email to the queue's configured address. The
private API's function completes tasks: SendTaskSuccess on the journeys' state machines.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path

from aws_cdk import ArnFormat, CfnOutput, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from constructs import Construct

from baton.journeys.catalog import load_catalog
from infra import nag, names
from infra.config import BatonConfig


def catalog_queues(journeys_dir: Path, sms_max_parts: int) -> set[str]:
    """The queues the catalog's hand-off steps name (escalations included)."""
    catalog = load_catalog(journeys_dir, sms_max_parts=sms_max_parts)
    queues: set[str] = set()
    for journey in catalog.journeys.values():
        for step in journey.steps:
            if step.handoff is not None:
                queues.add(step.handoff.queue)
                if step.handoff.escalate_to:
                    queues.add(step.handoff.escalate_to)
    return queues


def topic_id(queue: str) -> str:
    """`support-agents` -> `SupportAgentsQueueTopic`."""
    return "".join(part.title() for part in re.split(r"[^a-z0-9]+", queue) if part) + "QueueTopic"


class Handoffs(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: BatonConfig, journeys_dir: Path
    ) -> None:
        super().__init__(scope, construct_id)
        self.queues = sorted(catalog_queues(journeys_dir, config.sms_max_parts) | set(config.queues))
        self.emails = {queue: str(q.email) for queue, q in config.queues.items() if q.email is not None}
        self.key: kms.Key | None = None
        self.topics: dict[str, sns.Topic] = {}
        if self.queues:
            self.key = kms.Key(
                self,
                "QueueTopicsKey",
                description="Baton: encrypts hand-off task notices (task text, contact id) at rest in SNS.",
                enable_key_rotation=True,
            )
            for queue in self.queues:
                topic = sns.Topic(
                    self,
                    topic_id(queue),
                    display_name=f"Baton tasks: {queue}",
                    master_key=self.key,
                    enforce_ssl=True,
                )
                self.topics[queue] = topic
                CfnOutput(
                    self,
                    f"{topic_id(queue)}Arn",
                    description=f"New tasks of queue {queue}",
                    value=topic.topic_arn,
                )

    @property
    def environment(self) -> dict[str, str]:
        """Settings.queue_topics and Settings.queue_emails for every function."""
        return {
            names.settings_env("queue_topics"): json.dumps({q: t.topic_arn for q, t in self.topics.items()}),
            names.settings_env("queue_emails"): json.dumps(self.emails),
        }

    def grant_publish(self, function: lambda_.Function) -> None:
        """The journey task function tells queues about new tasks."""
        for topic in self.topics.values():
            topic.grant_publish(function)
        if self.topics and function.role is not None:
            nag.acknowledge(
                function.role,
                "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
                "CDK's grant to publish to the KMS-encrypted queue topics: the data-key actions"
                " (GenerateDataKey and its WithoutPlaintext form) on the topics' own key only.",
            )

    def grant_task_response(self, function: lambda_.Function, journey_ids: Iterable[str]) -> None:
        """Completing a task answers the waiting execution (SendTaskSuccess) of any journey.
        ARNs from names, like `Journeys.grant_executions` (no dependency on the state machines)."""
        stack = Stack.of(self)
        arns = [
            stack.format_arn(
                service="states",
                resource="stateMachine",
                resource_name=names.state_machine_name(stack.stack_name, journey_id),
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            )
            for journey_id in journey_ids
        ]
        if not arns:
            return
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"],
                resources=arns,
            )
        )
