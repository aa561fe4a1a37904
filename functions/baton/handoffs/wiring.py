"""Builds the hand-off service from the composition root's `Services` (once per cold start)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from baton import aws
from baton.bootstrap import Services, email_adapter
from baton.handoffs.callbacks import StepFunctionsCallbacks
from baton.handoffs.notify import AwsQueueNotifier
from baton.handoffs.repository import DynamoTaskRepository
from baton.handoffs.service import HandoffService
from baton.messages.builtins import BuiltIn
from baton.messages.staff import StaffMail


def handoff_service(s: Services, client: Callable[[str], Any] = aws.client) -> HandoffService:
    """`client` makes the SNS and SES clients: `aws.delivery_client` inside a journey task
    (Step Functions is the one retry layer, R-REL-4), `aws.client` in the API."""
    settings = s.settings
    email = StaffMail(
        email_adapter(settings, s.clock, client, s.limits),
        BuiltIn.HANDOFF_NOTICE,
        counter=s.figures,
        clock=s.clock,
    )
    notifier = AwsQueueNotifier(
        client("sns"), email, topics=settings.queue_topics, emails=settings.queue_emails
    )
    return HandoffService(
        DynamoTaskRepository(settings.tasks_table),
        notifier,
        StepFunctionsCallbacks(),
        s.timeline,
        s.clock,
    )
