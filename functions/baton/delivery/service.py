"""Send one message: read the facts, run the gate, hand the message to the channel's adapter,
and record the outcome on the contact's timeline. No message is lost silently: every send,
refusal, hold and provider failure is recorded and counted.

A caller that knows more about the contact (a journey step: its profile, its recent sends,
the step's window) passes a `SendContext`; the dispatcher reads suppression and consent
itself, at the moment of sending (R-TCPA-4).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from baton.clock import Clock, SystemClock, to_iso
from baton.consent.vocabulary import Basis, Channel, ConsentStatus
from baton.delivery.adapter import ChannelAdapter
from baton.delivery.exceptions import DeliveryError, ProviderThrottled
from baton.delivery.gate import (
    DEFAULT_POLICY,
    ConsentFact,
    GateDecision,
    GateFacts,
    GatePolicy,
    GateRequest,
    Reason,
    Recipient,
    SentFact,
    SuppressionFact,
    decide,
)
from baton.delivery.message import OutboundMessage, Purpose
from baton.delivery.ports import AddressBook, ConsentReader, SuppressionChecker, TimelineRecorder
from baton.delivery.timing import DailyWindow
from baton.sms.segments import count_segments
from baton.timeline.models import TimelineKind

logger = Logger(child=True)

MESSAGE_SENT = TimelineKind.MESSAGE_SENT.value
MESSAGE_FAILED = TimelineKind.MESSAGE_FAILED.value
# One channel refused by the gate. (A journey step with no channel allowed is `message.skipped`.)
MESSAGE_REFUSED = "message.refused"
# One channel held by a time window (quiet hours, calling window, the step's window) until `until`.
MESSAGE_HELD = "message.held"

METRIC_SENT = "MessagesSent"
METRIC_REFUSED = "MessagesRefused"
METRIC_FAILED = "MessagesFailed"
METRIC_HELD = "MessagesHeld"
METRIC_UNRECORDED = "SentMessagesNotRecorded"

# Purposes whose gate reads consent for (channel, topic).
_READS_CONSENT = frozenset({Purpose.MARKETING, Purpose.CONFIRMATION})
# Purposes that may reach an unconfirmed address: the request to confirm it, and answers to
# the number's own text (HELP, the opt-out confirmation).
_REACHES_UNCONFIRMED = frozenset({Purpose.CONFIRMATION, Purpose.HELP_REPLY, Purpose.OPT_OUT_CONFIRMATION})


class Outcome(StrEnum):
    SENT = "sent"
    REFUSED = "refused"
    HELD = "held"
    FAILED = "failed"


def _no_labels() -> Mapping[str, str]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class SendContext:
    """What a caller knows beyond the message: facts for the gate and labels for the timeline."""

    recipient: Recipient = field(default_factory=Recipient)
    sales_hold: bool = False
    recent_sends: tuple[SentFact, ...] = ()
    window: DailyWindow | None = None
    labels: Mapping[str, str] = field(default_factory=_no_labels)  # journey, step, execution


@dataclass(frozen=True, slots=True)
class SendResult:
    outcome: Outcome
    channel: Channel
    reason: Reason | None = None  # why it was refused or held
    rule: str | None = None  # the rulebook id behind a refusal or hold
    until: datetime | None = None  # when held: the moment to decide again
    provider: str | None = None
    provider_message_id: str | None = None  # when sent
    error_code: str | None = None  # the provider's code when failed
    retryable: bool = False  # a failure that may succeed later (throttling, 5xx, network)
    throttled: bool = False  # a retryable failure because the provider asked to slow down

    @property
    def sent(self) -> bool:
        return self.outcome == Outcome.SENT


class Dispatcher:
    """Sends through one adapter per channel, behind the gate."""

    def __init__(
        self,
        adapters: Mapping[Channel, ChannelAdapter],
        suppression: SuppressionChecker,
        consent: ConsentReader,
        timeline: TimelineRecorder,
        *,
        metrics: Metrics | None = None,
        policy: GatePolicy = DEFAULT_POLICY,
        clock: Clock | None = None,
        addresses: AddressBook | None = None,
    ) -> None:
        self._adapters = dict(adapters)
        self._addresses = addresses
        self._suppression = suppression
        self._consent = consent
        self._timeline = timeline
        self._metrics = metrics or Metrics()
        self._policy = policy
        self._clock = clock or SystemClock()

    @property
    def policy(self) -> GatePolicy:
        return self._policy

    def check(
        self, contact_id: str | None, message: OutboundMessage, context: SendContext | None = None
    ) -> GateDecision:
        """The gate's decision for `message` now, without sending anything."""
        context = context or SendContext()
        request = GateRequest(
            channel=message.channel,
            purpose=message.purpose,
            address=message.to,
            topic=message.topic,
            has_unsubscribe_url=bool(message.unsubscribe_url),
            window=context.window,
        )
        if not message.to.strip():
            return decide(request, GateFacts(now=self._clock.now()), self._policy)
        suppression = None
        entry = self._suppression.check(message.channel, message.to)
        if entry is not None:
            suppression = SuppressionFact(reason=str(entry.reason), since=entry.created_at)
        consent = None
        if message.topic and contact_id is not None and message.purpose in _READS_CONSENT:
            state = self._consent.state(contact_id, message.channel, message.topic)
            if state is not None:
                consent = ConsentFact(
                    status=ConsentStatus(state.status),
                    address=state.address,
                    granted_at=state.granted_at,
                    granted_basis=Basis(state.granted_basis) if state.granted_basis else None,
                )
        unconfirmed = (
            self._addresses is not None
            and contact_id is not None
            and message.purpose not in _REACHES_UNCONFIRMED
            and self._addresses.is_unconfirmed(contact_id, message.channel, message.to)
        )
        facts = GateFacts(
            now=self._clock.now(),
            suppression=suppression,
            consent=consent,
            sales_hold=context.sales_hold,
            recent_sends=context.recent_sends,
            recipient=context.recipient,
            unconfirmed_address=unconfirmed,
        )
        return decide(request, facts, self._policy)

    def send(
        self, contact_id: str | None, message: OutboundMessage, context: SendContext | None = None
    ) -> SendResult:
        """Send `message` if the gate allows it. Never raises for a refusal, a hold or a
        provider failure: the result says what happened, and the timeline has it too."""
        context = context or SendContext()
        adapter = self._adapters.get(message.channel)
        if adapter is None:
            return self._refused(contact_id, message, GateDecision(False, Reason.NO_ADAPTER), context)
        decision = self.check(contact_id, message, context)
        if decision.held:
            return self._held(contact_id, message, decision, context)
        if not decision.allowed:
            return self._refused(contact_id, message, decision, context)
        try:
            provider_message_id = adapter.send(message)
        except DeliveryError as exc:
            return self._failed(contact_id, message, adapter, exc, context)
        return self._sent(contact_id, message, adapter, provider_message_id, context)

    def _refused(
        self, contact_id: str | None, message: OutboundMessage, decision: GateDecision, context: SendContext
    ) -> SendResult:
        detail = {**_describe(message, context), "reason": str(decision.reason), "rule": decision.rule}
        self._record(contact_id, MESSAGE_REFUSED, detail)
        self._count(METRIC_REFUSED)
        return SendResult(Outcome.REFUSED, message.channel, reason=decision.reason, rule=decision.rule)

    def _held(
        self, contact_id: str | None, message: OutboundMessage, decision: GateDecision, context: SendContext
    ) -> SendResult:
        assert decision.until is not None  # held means it has an until
        detail = {
            **_describe(message, context),
            "reason": str(decision.reason),
            "rule": decision.rule,
            "until": to_iso(decision.until),
        }
        self._record(contact_id, MESSAGE_HELD, detail)
        self._count(METRIC_HELD)
        return SendResult(
            Outcome.HELD, message.channel, reason=decision.reason, rule=decision.rule, until=decision.until
        )

    def _failed(
        self,
        contact_id: str | None,
        message: OutboundMessage,
        adapter: ChannelAdapter,
        exc: DeliveryError,
        context: SendContext,
    ) -> SendResult:
        logger.warning(
            "Provider did not take the message",
            extra={"provider": exc.provider, "error_code": exc.code, "retryable": exc.retryable},
        )
        detail = {
            **_describe(message, context),
            "provider": adapter.provider,
            "error_code": exc.code,
            "retryable": exc.retryable,
        }
        self._record(contact_id, MESSAGE_FAILED, detail)
        self._count(METRIC_FAILED)
        return SendResult(
            Outcome.FAILED,
            message.channel,
            provider=adapter.provider,
            error_code=exc.code,
            retryable=exc.retryable,
            throttled=isinstance(exc, ProviderThrottled),
        )

    def _sent(
        self,
        contact_id: str | None,
        message: OutboundMessage,
        adapter: ChannelAdapter,
        provider_message_id: str,
        context: SendContext,
    ) -> SendResult:
        self._count(METRIC_SENT)
        detail = {
            **_describe(message, context),
            "provider": adapter.provider,
            "provider_message_id": provider_message_id,
        }
        try:
            self._record(contact_id, MESSAGE_SENT, detail)
        except Exception:
            # The message is out: raising would invite a retry and a duplicate. Log it in
            # full (with the provider id) and count it, so it can be reconciled.
            logger.exception(
                "Sent message not recorded on the timeline", extra={"contact_id": contact_id, **detail}
            )
            self._count(METRIC_UNRECORDED)
        return SendResult(
            Outcome.SENT, message.channel, provider=adapter.provider, provider_message_id=provider_message_id
        )

    def _record(self, contact_id: str | None, kind: str, detail: dict[str, Any]) -> None:
        # No contact: a reply to a number Baton holds no profile for (STOP from a stranger).
        if contact_id is not None:
            self._timeline.record(contact_id, kind, detail)
        else:
            logger.info(
                "Message to an address with no contact", extra={"kind": kind, "channel": detail["channel"]}
            )

    def _count(self, name: str) -> None:
        self._metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)


def _describe(message: OutboundMessage, context: SendContext) -> dict[str, Any]:
    detail: dict[str, Any] = {
        **context.labels,
        "channel": str(message.channel),
        "address": message.to,
        "purpose": str(message.purpose),
        "topic": message.topic,
        "preview": message.preview,
    }
    if message.subject is not None:
        detail["subject"] = message.subject
    if message.channel == Channel.SMS:
        segments = count_segments(message.text)
        detail["encoding"] = str(segments.encoding)
        detail["parts"] = segments.parts
    return detail
