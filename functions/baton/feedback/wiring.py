"""Builds the feedback service from the composition root's `Services`."""

from __future__ import annotations

from baton.bootstrap import Services
from baton.feedback.repository import DynamoReceiptRepository
from baton.feedback.service import FeedbackService
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
    )
