"""The composition root: wires repositories, services and adapters once per cold start.

Handlers call `services()`; tests and the local stack call `reset()` after switching AWS
endpoints or settings. Nothing here runs at import time.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any, TypeVar

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricResolution, MetricUnit
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

from baton import aws, secrets
from baton.clock import Clock, process_clock
from baton.consent.repository import DynamoConsentRepository
from baton.consent.service import ConsentService
from baton.consent.vocabulary import Channel
from baton.contacts.repository import DynamoContactRepository
from baton.contacts.service import ContactService
from baton.delivery.adapter import ChannelAdapter
from baton.delivery.caps import DynamoCapLedger
from baton.delivery.eum import EumSmsAdapter
from baton.delivery.gate import FrequencyCap, GatePolicy
from baton.delivery.pacing import DynamoPaceLedger, Pacer
from baton.delivery.service import Dispatcher
from baton.delivery.ses import SesEmailAdapter
from baton.delivery.ses_account import SesAccount, SesLimits
from baton.delivery.sns import SnsSmsAdapter
from baton.delivery.throughput import Rate, identity_rate, parse_identities
from baton.delivery.timing import DailyWindow, WeeklyWindow
from baton.delivery.voice import EumVoiceAdapter
from baton.delivery.webhook import WebhookAdapter
from baton.delivery.whatsapp import WhatsAppAdapter
from baton.do_not_contact.repository import DynamoDoNotContactRepository
from baton.do_not_contact.service import DoNotContactService
from baton.figures.recorder import FiguresRecorder
from baton.figures.repository import DynamoFiguresRepository
from baton.figures.service import FiguresService
from baton.floors import require_floors
from baton.messages import texts
from baton.settings import METRICS_NAMESPACE, SERVICE_NAME, Settings, get_settings
from baton.suppression.repository import DynamoSuppressionRepository
from baton.suppression.service import SuppressionService
from baton.timeline.repository import DynamoTimelineRepository
from baton.timeline.service import TimelineService


class BatonMetrics(Metrics):
    """Powertools' Metrics, keeping nothing while metrics are disabled (local mode, benchmarks):
    Powertools would keep every value, since a disabled flush empties nothing, and print the
    whole set to stdout whenever a metric reaches its 100 values."""

    def add_metric(
        self, name: str, unit: MetricUnit | str, value: float, resolution: MetricResolution | int = 60
    ) -> None:
        if not is_metrics_disabled():
            super().add_metric(name=name, unit=unit, value=value, resolution=resolution)


# Powertools warns at every invocation that added no metric (a page view, and every one while
# metrics are disabled): nothing is wrong then, and the warning only fills stderr.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)

# Named here, not only by env: a Metrics made before the env is set must still flush.
metrics = BatonMetrics(namespace=METRICS_NAMESPACE, service=SERVICE_NAME)


@dataclass(frozen=True)
class Services:
    settings: Settings
    clock: Clock
    timeline: TimelineService
    consent: ConsentService
    suppression: SuppressionService
    contacts: ContactService
    dispatcher: Dispatcher
    limits: ProviderLimits
    do_not_contact: DoNotContactService  # the operator's lists (R-BR-1)
    figures: FiguresRecorder  # counts every timeline event (flushed as each invocation ends)

    def signing_key(self) -> bytes:
        return secrets.signing_key(self.settings)

    def link_address_key(self) -> bytes:
        return secrets.link_address_key(self.settings)

    def sms_frequency(self, locale: str | None) -> str:
        """What an SMS confirmation or HELP reply states (R-CTIA-2/3): what the caps allow."""
        return texts.stated_frequency(locale=locale, caps=self.dispatcher.policy.frequency_caps)


@dataclass(frozen=True)
class ProviderLimits:
    """What every adapter of a cold start shares: the pacing count per origination identity
    (R-EUM-1) and WhatsApp sending number, and the SES account's limits (R-SES-1), each read
    once and cached."""

    pacer: Pacer
    ses: SesLimits


def provider_limits(settings: Settings, clock: Clock) -> ProviderLimits:
    pacer = Pacer(
        DynamoPaceLedger(settings.pacing_table),
        clock,
        max_wait=timedelta(seconds=settings.pacing_max_wait_seconds),
        share=settings.pacing_share,
    )
    # Reading the account is safe to retry: `aws.client`, with the SDK's retries.
    return ProviderLimits(pacer, SesLimits(SesAccount(aws.client("sesv2"), clock), pacer, clock))


def build(settings: Settings, clock: Clock) -> Services:
    # A deployment's send rules may be stricter than the rulebook's, never looser: a looser
    # one stops the function at cold start (synth refuses it too), not at the first send.
    require_floors(settings)
    timeline_events = DynamoTimelineRepository(settings.timeline_table)
    figures = FiguresRecorder(
        DynamoFiguresRepository(settings.figures_table),
        metrics,
        recent=lambda contact_id, limit: timeline_events.newest(contact_id, limit),
    )
    # One place: whatever records a timeline event is counted once its write succeeded.
    timeline = TimelineService(timeline_events, clock, observers=(figures,))
    consent = ConsentService(DynamoConsentRepository(settings.consent_table), timeline, clock)
    suppression = SuppressionService(
        DynamoSuppressionRepository(settings.suppression_table),
        lambda: secrets.suppression_salt(settings),
        clock,
    )
    contacts = ContactService(
        DynamoContactRepository(settings.contacts_table), consent, timeline, suppression, clock
    )
    limits = provider_limits(settings, clock)
    do_not_contact = DoNotContactService(
        DynamoDoNotContactRepository(settings.do_not_contact_table), suppression.hash, clock
    )
    dispatcher = Dispatcher(
        # One attempt per message, also for the API's and the keywords' own messages: an SDK
        # retry after a lost answer would send a text or an email twice (R-REL-4).
        delivery_adapters(settings, clock, aws.delivery_client, limits),
        suppression,
        consent,
        timeline,
        metrics=metrics,
        policy=gate_policy(settings),
        clock=clock,
        caps=DynamoCapLedger(settings.caps_table),
        addresses=contacts,
        do_not_contact=do_not_contact,
        figures=figures,
    )
    return Services(
        settings, clock, timeline, consent, suppression, contacts, dispatcher, limits, do_not_contact, figures
    )


def delivery_adapters(
    settings: Settings, clock: Clock, client: Callable[[str], Any], limits: ProviderLimits
) -> dict[Channel, ChannelAdapter]:
    """One adapter per configured channel. `client` makes the boto3 clients: for every send
    `aws.delivery_client` (no SDK retries, R-REL-4): a journey's are retried by Step Functions
    when the provider certainly did not take them, any other is recorded as it ended."""
    adapters: dict[Channel, ChannelAdapter] = {
        Channel.EMAIL: email_adapter(settings, clock, client, limits),
        Channel.SMS: SnsSmsAdapter(client("sns")),
    }
    if settings.sms_origination_identity:
        identity = settings.sms_origination_identity
        adapters[Channel.SMS] = EumSmsAdapter(
            client("pinpoint-sms-voice-v2"),
            origination_identity=identity,
            configuration_set=settings.sms_configuration_set or None,
            pacer=limits.pacer,
            rate=identity_rate(identity, parse_identities(settings.origination_identities)),
        )
    if settings.voice_origination_identity:
        adapters[Channel.VOICE] = EumVoiceAdapter(
            client("pinpoint-sms-voice-v2"),
            origination_identity=settings.voice_origination_identity,
            configuration_set=settings.voice_configuration_set or None,
            voices=settings.voice_ids,
        )
    if settings.whatsapp_phone_number_id:
        adapters[Channel.WHATSAPP] = WhatsAppAdapter(
            client("socialmessaging"),
            phone_number_id=settings.whatsapp_phone_number_id,
            meta_api_version=settings.whatsapp_meta_api_version,
            pacer=limits.pacer,
            rate=Rate.per_second(settings.whatsapp_messages_per_second),
        )
    if settings.webhook_url:
        adapters[Channel.WEBHOOK] = WebhookAdapter(
            settings.webhook_url,
            lambda: secrets.webhook_key(settings),
            timeout_seconds=settings.webhook_timeout_seconds,
            clock=clock,
        )
    return adapters


def email_adapter(
    settings: Settings, clock: Clock, client: Callable[[str], Any], limits: ProviderLimits
) -> SesEmailAdapter:
    """Email through SES from the deployment's sender, within the account's limits (R-SES-1)."""
    return SesEmailAdapter(
        client("sesv2"),
        sender=settings.sender_email,
        sender_name=settings.brand_name,
        configuration_set=settings.ses_configuration_set or None,
        clock=clock,
        limits=limits.ses,
    )


def gate_policy(settings: Settings) -> GatePolicy:
    """The send rules as configured; raises ValueError (at cold start) for a looser or bad rule."""
    return GatePolicy(
        frequency_caps=tuple(FrequencyCap.parse(spec) for spec in settings.frequency_caps),
        quiet_hours=DailyWindow.parse(settings.quiet_hours),
        quiet_hours_by_country={
            country.upper(): DailyWindow.parse(window)
            for country, window in settings.quiet_hours_by_country.items()
        },
        calling_windows={
            country.upper(): WeeklyWindow.parse(spec, settings.calling_holidays.get(country, ()))
            for country, spec in settings.calling_windows.items()
        },
        default_timezone=settings.default_timezone,
    )


def figures_service(s: Services) -> FiguresService:
    """Reading the figures (the private API): the table the recorder writes."""
    return FiguresService(DynamoFiguresRepository(s.settings.figures_table))


Handler = TypeVar("Handler", bound=Callable[..., Any])


def flushes_figures(handler: Handler) -> Handler:
    """Write the figures an invocation counted when it ends, however it ends (a task that
    raises for Step Functions to retry has recorded its timeline entries all the same)."""

    @functools.wraps(handler)
    def flushing(*args: Any, **kwargs: Any) -> Any:
        try:
            return handler(*args, **kwargs)
        finally:
            if services.cache_info().currsize:  # nothing was counted if nothing was built
                services().figures.flush()

    return flushing  # type: ignore[return-value]


@lru_cache(maxsize=1)
def services() -> Services:
    return build(get_settings(), process_clock())


def reset() -> None:
    """Forget settings, clients, secrets and services (the environment changed)."""
    services.cache_clear()
    get_settings.cache_clear()
    aws.reset()
    secrets.reset()
