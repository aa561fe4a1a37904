"""Builds the waits service from the composition root's `Services`."""

from __future__ import annotations

from baton.bootstrap import Services
from baton.waits.repository import DynamoWaitRepository
from baton.waits.service import WaitService
from baton.waits.tokens import StepFunctionsTaskTokens


def wait_service(s: Services) -> WaitService:
    return WaitService(
        DynamoWaitRepository(s.settings.waits_table), StepFunctionsTaskTokens(), s.timeline, s.clock
    )
