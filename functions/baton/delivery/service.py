"""Send one message: read the facts, run the gate, hand the message to the channel's adapter,
and record the outcome on the contact's timeline. No message is lost silently: every send,
refusal, hold and provider failure is recorded and counted.

A caller that knows more about the contact (a journey step: its profile, its recent sends,
the step's window) passes a `SendContext`; the dispatcher reads suppression and consent
itself, at the moment of sending (R-TCPA-4). Given the cap ledger, it decides the frequency
cap on the contact's stored count and reserves the send there before calling the provider, so
sends running at the same time never pass a cap together (see `baton.delivery.caps`).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from baton.clock import Clock, SystemClock, to_iso
from baton.consent.vocabulary import Basis, Channel, ConsentStatus
from baton.delivery.adapter import ChannelAdapter
from baton.delivery.caps import CapCountContended, CapLedger, CapReservations
from baton.delivery.exceptions import DeliveryError, ProviderAmbiguous, ProviderHeld, ProviderThrottled
from baton.delivery.gate import (
    DEFAULT_POLICY,
    ConsentFact,
    DoNotContactFact,
    GateDecision,
    GateFacts,
    GatePolicy,
    GateRequest,
    Reason,
    Recipient,
    SentFact,
    SuppressionFact,
    counted_caps,
    decide,
)
from baton.delivery.message import MESSAGE_TAG, OutboundMessage, Purpose
from baton.delivery.ports import (
    AddressBook,
    BuiltInCounter,
    ConsentReader,
    DoNotContactChecker,
    SendJournal,
    Stamp,
    SuppressionChecker,
    TimelineRecorder,
)
from baton.delivery.timing import DailyWindow
from baton.figures.projection import measure_of
from baton.messages import builtins
from baton.sms.segments import count_segments
from baton.timeline.exceptions import EventExists
from baton.timeline.models import TimelineKind

logger = Logger(child=True)

MESSAGE_SENT = TimelineKind.MESSAGE_SENT.value
MESSAGE_FAILED = TimelineKind.MESSAGE_FAILED.value
# One channel refused by the gate. (A journey step with no channel allowed is `message.skipped`.)
MESSAGE_REFUSED = "message.refused"
# One channel held by a time window (quiet hours, calling window, the step's window) until `until`.
MESSAGE_HELD = "message.held"
# The provider may or may not have taken the message (a read timeout, a 5xx of unknown effect):
# not sent again blindly; its own events settle it (`message.sent` when they echo it).
MESSAGE_UNKNOWN = "message.unknown"

METRIC_SENT = "MessagesSent"
METRIC_REFUSED = "MessagesRefused"
METRIC_FAILED = "MessagesFailed"
METRIC_HELD = "MessagesHeld"
METRIC_UNRECORDED = "SentMessagesNotRecorded"
METRIC_UNRELEASED = "CapReservationsNotReleased"
METRIC_UNKNOWN = "MessagesUnknown"
# Held because the provider's account takes nothing now (counted in MessagesHeld as well).
METRIC_HELD_BY_PROVIDER = "MessagesHeldByProviderLimits"

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
    UNKNOWN = "unknown"  # the provider may have taken it: see `MESSAGE_UNKNOWN`


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
    journal: SendJournal | None = None  # a journey send's own record around the provider call
    # The same sends, read only if a decision needs them (the caller caches the answer): with
    # the caps ledger that is only to seed a count it does not hold yet, so a contact's timeline
    # is not read at every send (a Query of up to 100 events a page).
    read_recent_sends: Callable[[], tuple[SentFact, ...]] | None = None
    # The content sent (`sha256:...` of the template's locale and channel, recorded with every
    # outcome, so a message can be traced to its content version) and whether it is the content
    # approved; a message that is no template's has neither.
    content: str | None = None
    content_approved: bool = True

    def sends_so_far(self) -> tuple[SentFact, ...]:
        """The contact's sends within the longest cap period, as the caller knows them."""
        return self.recent_sends if self.read_recent_sends is None else self.read_recent_sends()


@dataclass(frozen=True, slots=True)
class LedgerMessage:
    """A journey message known only by its send-ledger entry: what settles a send on a retry
    without rendering it again (the template or the data may have changed since it went out).
    Nothing personal: the ledger outlives erasure."""

    channel: Channel
    purpose: Purpose
    topic: str | None
    message_id: str  # the Baton message id the provider echoes


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
        caps: CapLedger | None = None,
        addresses: AddressBook | None = None,
        do_not_contact: DoNotContactChecker | None = None,
        figures: BuiltInCounter | None = None,
    ) -> None:
        """`caps`: the contact's cap counts; without it the cap is decided on the sends the
        caller lists in its `SendContext` (enough for one sender at a time, not for many).
        `do_not_contact`: the operator's lists (R-BR-1), read for marketing texts and calls.
        `figures`: counts a built-in message to an address with no contact (no timeline to
        count it from): a reply to a number Baton holds no profile for, or only as pending."""
        self._figures = figures
        self._adapters = dict(adapters)
        self._addresses = addresses
        self._do_not_contact = do_not_contact
        self._suppression = suppression
        self._consent = consent
        self._timeline = timeline
        self._metrics = metrics or Metrics()
        self._policy = policy
        self._clock = clock or SystemClock()
        self._caps = CapReservations(caps, policy) if caps is not None else None

    @property
    def policy(self) -> GatePolicy:
        return self._policy

    def check(
        self, contact_id: str | None, message: OutboundMessage, context: SendContext | None = None
    ) -> GateDecision:
        """The gate's decision for `message` now, without sending anything."""
        context = context or SendContext()
        request, facts = self._facts(contact_id, message, context)
        if self._caps is not None and contact_id is not None and self._counted(request):
            sends = self._caps.sends(contact_id, request.purpose, context.sends_so_far)
            facts = replace(facts, recent_sends=sends)
        return decide(request, facts, self._policy)

    def _facts(
        self, contact_id: str | None, message: OutboundMessage, context: SendContext
    ) -> tuple[GateRequest, GateFacts]:
        request = GateRequest(
            channel=message.channel,
            purpose=message.purpose,
            address=message.to,
            topic=message.topic,
            has_unsubscribe_url=bool(message.unsubscribe_url),
            window=context.window,
            content_approved=context.content_approved,
        )
        if not message.to.strip():
            return request, GateFacts(now=self._clock.now())
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
            # Counted sends only matter to a cap; with the caps ledger they come from its count.
            recent_sends=context.sends_so_far() if self._caps is None and self._counted(request) else (),
            recipient=context.recipient,
            unconfirmed_address=unconfirmed,
            do_not_contact=self._listed(message),
        )
        return request, facts

    def _listed(self, message: OutboundMessage) -> DoNotContactFact | None:
        """R-BR-1: read only where a list can refuse (a marketing text or call), so every other
        send costs no extra read; the checker reads only lists of the number's country."""
        if (
            self._do_not_contact is None
            or message.purpose != Purpose.MARKETING
            or message.channel not in self._policy.do_not_contact_channels
        ):
            return None
        listed = self._do_not_contact.listed(message.to)
        return DoNotContactFact(list_name=listed.name, rule=listed.rule) if listed is not None else None

    def _counted(self, request: GateRequest) -> bool:
        return bool(counted_caps(request.purpose, request.channel, self._policy))

    def send(
        self, contact_id: str | None, message: OutboundMessage, context: SendContext | None = None
    ) -> SendResult:
        """Send `message` if the gate allows it. Never raises for a refusal, a hold or a
        provider failure: the result says what happened, and the timeline has it too."""
        context = context or SendContext()
        adapter = self._adapters.get(message.channel)
        request, facts = self._facts(contact_id, message, context)
        if adapter is None:
            # The gate still decides: what holds the person back (an opt-out, a sales deal, no
            # consent) is the reason on record, not that this deployment lacks the channel.
            decision = decide(request, facts, self._policy)
            if decision.allowed or decision.held:
                decision = GateDecision(False, Reason.NO_ADAPTER)
            return self._refused(contact_id, message, decision, context)
        reservation: str | None = None
        if self._caps is not None and contact_id is not None and self._counted(request):
            reservation = _reservation(message, context)
            try:
                # Decided on the stored count and, when allowed, reserved in it: no other send
                # can take this place between the decision and the provider call.
                decision = self._caps.reserve(
                    contact_id, request, facts, reservation, seed=context.sends_so_far
                )
            except CapCountContended as exc:
                return self._failed(contact_id, message, adapter, exc, context)
        else:
            decision = decide(request, facts, self._policy)
        if decision.held:
            return self._held(contact_id, message, decision, context)
        if not decision.allowed:
            return self._refused(contact_id, message, decision, context)
        journal = context.journal
        if journal is not None:
            journal.attempting(adapter.provider)  # written before the provider hears of it
        try:
            provider_message_id = adapter.send(message)
        except ProviderAmbiguous as exc:
            return self._unknown(contact_id, message, adapter, exc, context)
        except DeliveryError as exc:
            if reservation is not None and contact_id is not None:
                self._release(contact_id, message.purpose, reservation)
            if journal is not None:
                journal.not_sent()
            if isinstance(exc, ProviderHeld):
                # The account takes nothing before `until` (R-SES-1): held like a closed window.
                self._count(METRIC_HELD_BY_PROVIDER)
                decision = GateDecision(False, exc.reason, rule=exc.rule, until=exc.until)
                return self._held(contact_id, message, decision, context)
            return self._failed(contact_id, message, adapter, exc, context)
        stamp = journal.accepted(adapter.provider, provider_message_id) if journal is not None else None
        return self.record_sent(contact_id, message, adapter.provider, provider_message_id, context, stamp)

    def _release(self, contact_id: str, purpose: Purpose, reservation: str) -> None:
        """The provider did not take the message: its place in the cap goes back."""
        assert self._caps is not None  # only a reserved send is released
        try:
            self._caps.release(contact_id, purpose, reservation, self._clock.now())
        except Exception:
            # Kept, the place only makes the cap stricter until it ages out: log and count it.
            logger.exception("Cap reservation not released", extra={"purpose": str(purpose)})
            self._count(METRIC_UNRELEASED)

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

    def _unknown(
        self,
        contact_id: str | None,
        message: OutboundMessage,
        adapter: ChannelAdapter,
        exc: ProviderAmbiguous,
        context: SendContext,
    ) -> SendResult:
        logger.warning(
            "Provider may or may not have taken the message",
            extra={"provider": exc.provider, "error_code": exc.code},
        )
        stamp = context.journal.ambiguous(adapter.provider, exc.code) if context.journal is not None else None
        return self.record_unknown(contact_id, message, adapter.provider, exc.code, context, stamp)

    def record_unknown(
        self,
        contact_id: str | None,
        message: OutboundMessage | LedgerMessage,
        provider: str,
        error_code: str,
        context: SendContext,
        stamp: Stamp | None = None,
    ) -> SendResult:
        """`message.unknown`: the provider may or may not have taken the message."""
        detail = {**_describe(message, context), "provider": provider, "error_code": error_code}
        self._record_once(contact_id, MESSAGE_UNKNOWN, detail, stamp)
        self._count(METRIC_UNKNOWN)
        return SendResult(Outcome.UNKNOWN, message.channel, provider=provider, error_code=error_code)

    def record_sent(
        self,
        contact_id: str | None,
        message: OutboundMessage | LedgerMessage,
        provider: str,
        provider_message_id: str,
        context: SendContext,
        stamp: Stamp | None = None,
    ) -> SendResult:
        """`message.sent` for a message the provider took. With a stamp (a journey send, whose
        journal knows the message is out) a failure to record raises, so the retried task
        finishes the recording; recording it again finds the stamped event."""
        self._count(METRIC_SENT)
        detail = {
            **_describe(message, context),
            "provider": provider,
            "provider_message_id": provider_message_id,
        }
        if stamp is not None:
            self._record_once(contact_id, MESSAGE_SENT, detail, stamp)
            return SendResult(
                Outcome.SENT, message.channel, provider=provider, provider_message_id=provider_message_id
            )
        try:
            self._record(contact_id, MESSAGE_SENT, detail)
        except Exception:
            # The message is out: raising would invite a retry and a duplicate. Log what
            # reconciles it (contact, provider id, journey labels; never the address or text)
            # and count it.
            logger.exception(
                "Sent message not recorded on the timeline",
                extra={
                    **context.labels,
                    "contact_id": contact_id,
                    "channel": str(message.channel),
                    "provider": provider,
                    "provider_message_id": provider_message_id,
                },
            )
            self._count(METRIC_UNRECORDED)
        return SendResult(
            Outcome.SENT, message.channel, provider=provider, provider_message_id=provider_message_id
        )

    def _record_once(
        self, contact_id: str | None, kind: str, detail: dict[str, Any], stamp: Stamp | None
    ) -> None:
        if stamp is None or contact_id is None:
            self._record(contact_id, kind, detail)
            return
        try:
            self._timeline.record(contact_id, kind, detail, at=stamp.at, event_id=stamp.event_id)
        except EventExists:
            logger.info("Outcome already on the timeline", extra={"kind": kind})

    def _record(self, contact_id: str | None, kind: str, detail: dict[str, Any]) -> None:
        # No contact: a reply to a number Baton holds no profile for (STOP from a stranger).
        if contact_id is not None:
            self._timeline.record(contact_id, kind, detail)
        else:
            self._count_without_contact(kind, detail)
            logger.info(
                "Message to an address with no contact", extra={"kind": kind, "channel": detail["channel"]}
            )

    def _count_without_contact(self, kind: str, detail: dict[str, Any]) -> None:
        builtin, measure = detail.get(builtins.TAG), measure_of(kind, detail)
        if self._figures is not None and isinstance(builtin, str) and measure is not None:
            self._figures.counted(builtin, measure, detail["channel"], self._clock.now().date())

    def _count(self, name: str) -> None:
        self._metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)


def _reservation(message: OutboundMessage, context: SendContext) -> str:
    """The same for every run of one journey send (a retried task finds its own place, and does
    not take a second one); unique otherwise. A journey's message carries its Baton message id,
    one per (execution, step, pass, channel): each pass of a loop takes its own place. A
    digest: the count holds no labels."""
    baton_message_id = message.tags.get(MESSAGE_TAG)
    if baton_message_id:
        return hashlib.sha256(baton_message_id.encode()).hexdigest()[:32]
    execution, step = context.labels.get("execution"), context.labels.get("step")
    if not execution or not step:
        return uuid.uuid4().hex
    return hashlib.sha256(f"{execution}#{step}#{message.channel}".encode()).hexdigest()[:32]


def _describe(message: OutboundMessage | LedgerMessage, context: SendContext) -> dict[str, Any]:
    content = {"content": context.content} if context.content else {}
    if isinstance(message, LedgerMessage):
        return {
            **context.labels,
            "channel": str(message.channel),
            "purpose": str(message.purpose),
            "topic": message.topic,
            "message_id": message.message_id,
            **content,  # its hash: the ledger keeps which content version went out
            "settled_by": "send_ledger",  # the address and content are not kept there
        }
    detail: dict[str, Any] = {
        **context.labels,
        "channel": str(message.channel),
        "address": message.to,
        "purpose": str(message.purpose),
        "topic": message.topic,
        "preview": message.preview,
        **content,
    }
    if MESSAGE_TAG in message.tags:
        detail["message_id"] = message.tags[MESSAGE_TAG]  # what the provider's events echo
    if message.subject is not None:
        detail["subject"] = message.subject
    if message.channel == Channel.SMS:
        segments = count_segments(message.text)
        detail["encoding"] = str(segments.encoding)
        detail["parts"] = segments.parts
    return detail
