"""The send gate: may this message go to this address now? A pure function of the request and
the facts read at send time (R-TCPA-4: a revocation counts before the very next send).

| purpose              | allowed when                                                               |
|----------------------|----------------------------------------------------------------------------|
| transactional        | an address, not suppressed                                                 |
| marketing            | an address, not suppressed, a topic, consent `granted` for channel+topic   |
|                      | covering this very address (R-TCPA-1, R-GDPR-1), not an expired implied    |
|                      | consent (R-CASL-1); email also needs a one-click unsubscribe URL (R-MBX-1) |
| confirmation         | an address, not suppressed, consent `pending` for channel+topic and address |
| opt_out_confirmation | an address suppressed by an opt-out, within minutes of it (R-TCPA-5)       |
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType

from baton.consent.vocabulary import Basis, Channel, ConsentStatus
from baton.delivery.message import Purpose
from baton.suppression.models import SuppressionReason


class Reason(StrEnum):
    """Why a send was allowed or refused: stable strings, stored on the timeline."""

    ALLOWED = "allowed"
    NO_ADDRESS = "no_address"
    SUPPRESSED = "suppressed"
    NO_TOPIC = "no_topic"
    NO_CONSENT = "no_consent"
    CONSENT_FOR_OTHER_ADDRESS = "consent_for_other_address"
    CONSENT_EXPIRED = "consent_expired"
    NO_UNSUBSCRIBE_URL = "no_unsubscribe_url"
    NOT_PENDING = "not_pending"
    NOT_OPTED_OUT = "not_opted_out"
    OPT_OUT_WINDOW_CLOSED = "opt_out_window_closed"
    NO_ADAPTER = "no_adapter"  # decided by the dispatcher: no adapter for the channel


@dataclass(frozen=True, slots=True)
class GateRequest:
    channel: Channel
    purpose: Purpose
    address: str
    topic: str | None = None
    has_unsubscribe_url: bool = False


@dataclass(frozen=True, slots=True)
class SuppressionFact:
    reason: str  # a `SuppressionReason` value (opt_out, hard_bounce, complaint, erased, ...)
    since: datetime | None = None


@dataclass(frozen=True, slots=True)
class ConsentFact:
    """The current consent for the request's (channel, topic)."""

    status: ConsentStatus
    address: str | None = None  # the address the consent covers
    granted_at: datetime | None = None  # of the grant in force (R-CASL-1)
    granted_basis: Basis | None = None


@dataclass(frozen=True, slots=True)
class GateFacts:
    now: datetime
    suppression: SuppressionFact | None = None
    consent: ConsentFact | None = None  # None: no record


def _implied_lifetimes() -> Mapping[Basis, timedelta]:
    # R-CASL-1: implied consent lasts 2 years from a purchase, 6 months from an inquiry.
    # Counted in whole days on the short side (730, 181) so it is never looser than the law.
    return MappingProxyType(
        {Basis.IMPLIED_PURCHASE: timedelta(days=730), Basis.IMPLIED_INQUIRY: timedelta(days=181)}
    )


@dataclass(frozen=True, slots=True)
class GatePolicy:
    # Suppression reasons that mean "the person opted out" (and so may get one confirmation).
    # Bounces, complaints and erasure are not among them: nothing more is sent after those.
    opt_out_reasons: frozenset[str] = frozenset({str(SuppressionReason.OPT_OUT)})
    # FCC 24-24 (R-TCPA-5): the one confirmation text goes within five minutes of the opt-out.
    opt_out_confirmation_window: timedelta = timedelta(minutes=5)
    implied_consent_lifetimes: Mapping[Basis, timedelta] = field(default_factory=_implied_lifetimes)


DEFAULT_POLICY = GatePolicy()

# The rule behind a suppression, for the timeline; other reasons are operator decisions.
_SUPPRESSION_RULES = {
    str(SuppressionReason.OPT_OUT): "R-TCPA-3",
    str(SuppressionReason.HARD_BOUNCE): "R-SES-3",
    str(SuppressionReason.COMPLAINT): "R-SES-3",
    str(SuppressionReason.ERASED): "R-GDPR-5",
}


@dataclass(frozen=True, slots=True)
class GateDecision:
    allowed: bool
    reason: Reason
    rule: str | None = None  # the rulebook id behind the decision, when there is one


def decide(request: GateRequest, facts: GateFacts, policy: GatePolicy = DEFAULT_POLICY) -> GateDecision:
    if not request.address.strip():
        return _refuse(Reason.NO_ADDRESS)
    if request.purpose == Purpose.OPT_OUT_CONFIRMATION:
        return _opt_out_confirmation(facts, policy)
    if request.purpose == Purpose.HELP_REPLY:
        # The person asked: HELP is answered even after an opt-out (R-CTIA-2, R-EUM-2).
        return GateDecision(True, Reason.ALLOWED, "R-CTIA-2")
    if facts.suppression is not None:
        # Suppression outranks everything else: STOP, unsubscribe, bounce, complaint, erasure.
        return _refuse(Reason.SUPPRESSED, _SUPPRESSION_RULES.get(facts.suppression.reason))
    if request.purpose == Purpose.TRANSACTIONAL:
        return GateDecision(True, Reason.ALLOWED)
    if request.purpose == Purpose.CONFIRMATION:
        return _confirmation(request, facts.consent)
    return _marketing(request, facts, policy)


def _confirmation(request: GateRequest, consent: ConsentFact | None) -> GateDecision:
    if consent is None or consent.status != ConsentStatus.PENDING:
        return _refuse(Reason.NOT_PENDING, "R-MBX-5")
    if not _same_address(request.channel, consent.address, request.address):
        return _refuse(Reason.CONSENT_FOR_OTHER_ADDRESS, "R-MBX-5")
    return GateDecision(True, Reason.ALLOWED, "R-MBX-5")


def _marketing(request: GateRequest, facts: GateFacts, policy: GatePolicy) -> GateDecision:
    rule = "R-TCPA-1" if request.channel in (Channel.SMS, Channel.VOICE) else "R-GDPR-1"
    consent = facts.consent
    if not request.topic:
        return _refuse(Reason.NO_TOPIC, rule)
    if consent is None or consent.status != ConsentStatus.GRANTED:
        return _refuse(Reason.NO_CONSENT, rule)
    if not _same_address(request.channel, consent.address, request.address):
        # R-TCPA-1: consent is for that exact number (or address), not for whoever has it now.
        return _refuse(Reason.CONSENT_FOR_OTHER_ADDRESS, rule)
    lifetime = policy.implied_consent_lifetimes.get(consent.granted_basis) if consent.granted_basis else None
    if lifetime is not None and (consent.granted_at is None or facts.now >= consent.granted_at + lifetime):
        return _refuse(Reason.CONSENT_EXPIRED, "R-CASL-1")
    if request.channel == Channel.EMAIL and not request.has_unsubscribe_url:
        return _refuse(Reason.NO_UNSUBSCRIBE_URL, "R-MBX-1")
    return GateDecision(True, Reason.ALLOWED, rule)


def _opt_out_confirmation(facts: GateFacts, policy: GatePolicy) -> GateDecision:
    suppression = facts.suppression
    if suppression is None or suppression.reason not in policy.opt_out_reasons:
        return _refuse(Reason.NOT_OPTED_OUT, "R-TCPA-5")
    if suppression.since is None or facts.now - suppression.since > policy.opt_out_confirmation_window:
        return _refuse(Reason.OPT_OUT_WINDOW_CLOSED, "R-TCPA-5")
    return GateDecision(True, Reason.ALLOWED, "R-TCPA-5")


def _same_address(channel: Channel, covered: str | None, address: str) -> bool:
    if covered is None:
        return False
    if channel == Channel.EMAIL:
        return covered.strip().casefold() == address.strip().casefold()
    return covered.strip() == address.strip()


def _refuse(reason: Reason, rule: str | None = None) -> GateDecision:
    return GateDecision(False, reason, rule)
