"""Telling a queue about a new task: a message on the queue's SNS topic, and an email to the
queue's address (`builtin/handoff-notice`, a staff email: `baton.messages.staff`), whose SES
tags name the notice, not the journey, so its receipts are never taken for the journey step's."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from baton.clock import to_iso
from baton.delivery.exceptions import DeliveryError
from baton.handoffs.exceptions import QueueNotifyFailed
from baton.handoffs.models import Task
from baton.messages import texts
from baton.messages.staff import StaffMail

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
        email: StaffMail | None,
        *,
        topics: Mapping[str, str],
        emails: Mapping[str, str],
    ) -> None:
        self._sns = sns
        self._email = email
        self._topics = dict(topics)
        self._emails = dict(emails)

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
            try:
                self._email.send(
                    to=address,
                    subject=subject,
                    text=text,
                    tags={"queue": task.queue},
                )
            except DeliveryError as exc:
                raise QueueNotifyFailed(f"queue {task.queue}: email failed") from exc
            reached["email"] = True
        return reached
