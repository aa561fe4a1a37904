"""The composition root: wires repositories, services and adapters once per cold start.

Handlers call `services()`; tests and the local stack call `reset()` after switching AWS
endpoints or settings. Nothing here runs at import time.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from aws_lambda_powertools import Metrics

from baton import aws, secrets
from baton.clock import Clock, process_clock
from baton.consent.repository import DynamoConsentRepository
from baton.consent.service import ConsentService
from baton.consent.vocabulary import Channel
from baton.contacts.repository import DynamoContactRepository
from baton.contacts.service import ContactService
from baton.delivery.service import Dispatcher
from baton.delivery.ses import SesEmailAdapter
from baton.delivery.sns import SnsSmsAdapter
from baton.settings import METRICS_NAMESPACE, SERVICE_NAME, Settings, get_settings
from baton.suppression.repository import DynamoSuppressionRepository
from baton.suppression.service import SuppressionService
from baton.timeline.repository import DynamoTimelineRepository
from baton.timeline.service import TimelineService

# Named here, not only by env: a Metrics made before the env is set must still flush.
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE_NAME)


@dataclass(frozen=True)
class Services:
    settings: Settings
    clock: Clock
    timeline: TimelineService
    consent: ConsentService
    suppression: SuppressionService
    contacts: ContactService
    dispatcher: Dispatcher

    def signing_key(self) -> bytes:
        return secrets.signing_key(self.settings)


def build(settings: Settings, clock: Clock) -> Services:
    timeline = TimelineService(DynamoTimelineRepository(settings.timeline_table), clock)
    consent = ConsentService(DynamoConsentRepository(settings.consent_table), timeline, clock)
    suppression = SuppressionService(
        DynamoSuppressionRepository(settings.suppression_table),
        lambda: secrets.suppression_salt(settings),
        clock,
    )
    contacts = ContactService(
        DynamoContactRepository(settings.contacts_table), consent, timeline, suppression, clock
    )
    adapters = {
        Channel.EMAIL: SesEmailAdapter(
            aws.client("sesv2"),
            sender=settings.sender_email,
            sender_name=settings.brand_name,
            configuration_set=settings.ses_configuration_set or None,
            clock=clock,
        ),
        Channel.SMS: SnsSmsAdapter(aws.client("sns")),
    }
    dispatcher = Dispatcher(adapters, suppression, consent, timeline, metrics=metrics, clock=clock)
    return Services(settings, clock, timeline, consent, suppression, contacts, dispatcher)


@lru_cache(maxsize=1)
def services() -> Services:
    return build(get_settings(), process_clock())


def reset() -> None:
    """Forget settings, clients, secrets and services (the environment changed)."""
    services.cache_clear()
    get_settings.cache_clear()
    aws.reset()
    secrets.reset()
