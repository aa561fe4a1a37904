"""Events Baton raises itself (`subscription.confirmed`): they start journeys like any other.

A journey that cannot start never undoes what caused the event (a person's confirmation
stands): the failure is logged, counted and put on the contact's timeline instead.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import JsonValue

from baton.bootstrap import Services, metrics
from baton.triggers.models import EventIn
from baton.triggers.wiring import event_service

SUBSCRIPTION_CONFIRMED = "subscription.confirmed"

logger = Logger(child=True)


def announce(
    services: Services, contact_id: str, event_type: str, data: dict[str, JsonValue], idempotency_key: str
) -> list[str]:
    """Start the journeys `event_type` triggers for the contact; returns the journeys started."""
    event = EventIn(contact_id=contact_id, type=event_type, data=data, idempotency_key=idempotency_key)
    try:
        return event_service(services).record(event).journeys_started
    except Exception:  # the cause (a confirmation) must stand; the failure is recorded below
        logger.exception("Journeys not started", extra={"event_type": event_type, "contact_id": contact_id})
        metrics.add_metric(name="JourneyTriggerFailed", unit=MetricUnit.Count, value=1)
        services.timeline.record(contact_id, "journey.trigger_failed", {"event": event_type})
        return []


def subscription_confirmed(services: Services, contact_id: str, channel: str, topics: list[str]) -> list[str]:
    """A double opt-in completed. One welcome per contact: the key names the contact only."""
    data: dict[str, JsonValue] = {"channel": channel, "topics": list(topics)}
    return announce(
        services, contact_id, SUBSCRIPTION_CONFIRMED, data, f"{SUBSCRIPTION_CONFIRMED}:{contact_id}"
    )
