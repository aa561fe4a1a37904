"""Builds the feedback service from the composition root's `Services`."""

from __future__ import annotations

from baton import aws
from baton.bootstrap import Services
from baton.data.once import DynamoOnceTable
from baton.feedback.repository import DynamoReceiptRepository
from baton.feedback.service import FeedbackService
from baton.runner.once import SendLedger
from baton.runner.reconcile import ProviderEcho
from baton.triggers.subjects import DynamoSubjectRepository
from baton.waits.tokens import StepFunctionsTaskTokens


def feedback_service(s: Services) -> FeedbackService:
    return FeedbackService(
        DynamoReceiptRepository(s.settings.receipts_table),
        StepFunctionsTaskTokens(),
        contacts=s.contacts,
        suppression=s.suppression,
        consent=s.consent,
        timeline=s.timeline,
        clock=s.clock,
        # Provider events settle journey sends whose answer was lost (the send ledger).
        settler=ProviderEcho(
            SendLedger(DynamoOnceTable(s.settings.idempotency_table, aws.client("dynamodb")), s.clock),
            s.timeline,
            DynamoSubjectRepository(s.settings.subjects_table),
            s.contacts,
        ),
    )
