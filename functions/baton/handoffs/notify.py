"""Telling a queue about a new task: a message on the queue's SNS topic, and an email to the
queue's address through the SES adapter (the queue is staff, not a contact: no consent gate).

The email is a built-in message (`builtin/handoff-notice`) with no contact timeline, so it is
counted straight into the figures; its SES tags name it, not the journey, so its receipts are
never taken for the journey step's."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from baton.clock import Clock, to_iso
from baton.consent.vocabulary import Channel
from baton.delivery.adapter import ChannelAdapter
from baton.delivery.exceptions import DeliveryError
from baton.delivery.message import OutboundMessage, Purpose
from baton.delivery.ports import BuiltInCounter
from baton.handoffs.exceptions import QueueNotifyFailed
from baton.handoffs.models import Task
from baton.messages import builtins, texts
from baton.messages.builtins import BuiltIn

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient


def task_message(task: Task) -> dict[str, Any]:
    """What the topic carries: the task without its callback token."""
    return {
        "type": "handoff.created",
        "task_id": task.task_id,
        "queue": task.queue,
        "journey": task.journey,
        "step": task.step,
        "contact_id": task.contact_id,
        "text": task.text,
        "due_at": to_iso(task.due_at),
        "escalated_from": task.escalated_from,
    }


class AwsQueueNotifier:
    def __init__(
        self,
        sns: SNSClient,
        email: ChannelAdapter | None,
        *,
        topics: Mapping[str, str],
        emails: Mapping[str, str],
        counter: BuiltInCounter | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._sns = sns
        self._email = email
        self._topics = dict(topics)
        self._emails = dict(emails)
        self._counter = counter
        self._clock = clock

    def notify(self, task: Task) -> Mapping[str, Any]:
        reached = {"topic": False, "email": False}
        topic = self._topics.get(task.queue)
        if topic:
            try:
                self._sns.publish(
                    TopicArn=topic,
                    Subject=f"New task in {task.queue}"[:100],
                    Message=json.dumps(task_message(task)),
                )
            except (ClientError, BotoCoreError) as exc:
                raise QueueNotifyFailed(f"queue {task.queue}: topic publish failed") from exc
            reached["topic"] = True
        address = self._emails.get(task.queue)
        if address and self._email is not None:
            subject, text = texts.handoff_notice(
                queue=task.queue,
                journey=task.journey,
                step=task.step,
                text=task.text,
                task_id=task.task_id,
                due_at=to_iso(task.due_at),
            )
            message = OutboundMessage.email(
                to=address,
                purpose=Purpose.TRANSACTIONAL,
                subject=subject,
                text=text,
                tags={**builtins.tags(BuiltIn.HANDOFF_NOTICE), "queue": task.queue},
            )
            try:
                self._email.send(message)
            except DeliveryError as exc:
                self._count("failed")
                raise QueueNotifyFailed(f"queue {task.queue}: email failed") from exc
            self._count("sent")
            reached["email"] = True
        return reached

    def _count(self, measure: str) -> None:
        if self._counter is not None and self._clock is not None:
            day = self._clock.now().date()
            self._counter.counted(BuiltIn.HANDOFF_NOTICE.value, measure, Channel.EMAIL.value, day)
