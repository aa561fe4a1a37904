"""Builds the trace service from the composition root's `Services` (once per cold start)."""

from __future__ import annotations

from baton.bootstrap import Services
from baton.tracing.service import TraceService
from baton.triggers.runs import DynamoRunRepository
from baton.triggers.wiring import services_catalog


def trace_service(s: Services) -> TraceService:
    inventory, sender = s.settings.inventory, s.settings.sender_email
    return TraceService(
        services_catalog(s),
        s.timeline,
        DynamoRunRepository(s.settings.runs_table),
        builtin_owner=lambda message: inventory.owner_of(message, sender),
    )
