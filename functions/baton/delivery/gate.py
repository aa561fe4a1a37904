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

Before any of that, a template's message needs its content to be the content approved
(`not_approved`, `baton.journeys.approvals`): marketing always, transactional when the
deployment asks. Synth refuses such a template already; the gate refuses it again at send
time, so content that reached a function some other way still reaches nobody.

An address a sign-up form named but its owner has not confirmed (`unconfirmed_address`) gets
nothing but its confirmation request (R-MBX-5, R-CTIA-3), whatever the purpose: anyone can type
anyone's address into a form. (HELP and opt-out replies answer the number's own text.)

A marketing text or call to a number on a do-not-contact list the operator loaded (Brazil's
"Não Me Perturbe", R-BR-1) is refused whatever the consent; email, transactional messages,
confirmations and the answers to the number's own texts are not affected.

Marketing then also needs: no open deal (`sales_hold`), the frequency cap not reached, and for
SMS and voice the quiet hours (R-TCPA-2) and, for calls to Brazil, the calling window
(R-BR-1). A journey step's `window` applies to every purpose. A closed time window is a hold:
the decision carries `until`, when the window next opens, and the step is decided again then.

The cap is decided on the sends the facts list; the dispatcher makes that decision hold when
sends to one contact run at the same time, by reserving each counted send in the contact's
cap count (`baton.delivery.caps`) before the provider is called.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from baton.consent.vocabulary import Basis, Channel, ConsentStatus
from baton.delivery import defaults
from baton.delivery.message import Purpose
from baton.delivery.timing import (
    DailyWindow,
    Interval,
    Schedule,
    WeeklyWindow,
    intersect,
    is_open,
    next_opening,
    open_intervals,
)
from baton.delivery.zones import legal_zones, number_country, number_region, recipient_zones
from baton.suppression.models import SuppressionReason

PHONE_CHANNELS = frozenset({Channel.SMS, Channel.VOICE, Channel.WHATSAPP})


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
    SALES_HOLD = "sales_hold"  # an open deal holds marketing off
    FREQUENCY_CAP = "frequency_cap"
    QUIET_HOURS = "quiet_hours"  # R-TCPA-2 (held until they end)
    CALLING_WINDOW = "calling_window"  # R-BR-1 (held until it opens)
    OUTSIDE_WINDOW = "outside_window"  # the journey step's own window (held until it opens)
    UNKNOWN_TIMEZONE = "unknown_timezone"  # R-TCPA-2: no zone to read the quiet hours in
    UNCONFIRMED_ADDRESS = "unconfirmed_address"  # named by a form, not confirmed by its owner
    # Decided by the provider's account before it is called (R-SES-1; held until rechecked).
    SENDING_PAUSED = "sending_paused"  # SES has disabled the account's sending
    SENDING_QUOTA = "sending_quota"  # the SES account's 24-hour quota is used up
    DO_NOT_CONTACT_LIST = "do_not_contact_list"  # on a list the operator loaded (R-BR-1)
    # Decided after the provider answered: still throttling, or unavailable, after every retry
    # of the task (R-REL-4; held and tried again later, never dropped).
    PROVIDER_THROTTLED = "provider_throttled"
    PROVIDER_UNAVAILABLE = "provider_unavailable"
    NOT_APPROVED = "not_approved"  # the template's content is not the content legal approved


@dataclass(frozen=True, slots=True)
class GateRequest:
    channel: Channel
    purpose: Purpose
    address: str
    topic: str | None = None
    has_unsubscribe_url: bool = False
    window: DailyWindow | None = None  # a journey step's window, recipient's local time
    # False: the message is a template's content that needs approval and is not the content
    # approved (edited since, or never approved). Baton's own texts need none.
    content_approved: bool = True


@dataclass(frozen=True, slots=True)
class SuppressionFact:
    reason: str  # a `SuppressionReason` value (opt_out, hard_bounce, complaint, erased, ...)
    since: datetime | None = None


@dataclass(frozen=True, slots=True)
class DoNotContactFact:
    """The number is in the generation in force of a do-not-contact list."""

    list_name: str  # `br_nao_me_perturbe`
    rule: str  # the rulebook id the list enforces (R-BR-1)


@dataclass(frozen=True, slots=True)
class ConsentFact:
    """The current consent for the request's (channel, topic)."""

    status: ConsentStatus
    address: str | None = None  # the address the consent covers
    granted_at: datetime | None = None  # of the grant in force (R-CASL-1)
    granted_basis: Basis | None = None


@dataclass(frozen=True, slots=True)
class SentFact:
    """A message sent to the contact earlier (a `message.sent` timeline event)."""

    channel: Channel
    purpose: Purpose
    at: datetime


@dataclass(frozen=True, slots=True)
class Recipient:
    """What places the contact in time (see `baton.delivery.zones`)."""

    timezone: str | None = None
    country: str | None = None
    phone: str | None = None  # read for the zone of a send on a channel without a number


@dataclass(frozen=True, slots=True)
class GateFacts:
    now: datetime
    suppression: SuppressionFact | None = None
    consent: ConsentFact | None = None  # None: no record
    sales_hold: bool = False  # the contact's `sales.deal_open`
    recent_sends: tuple[SentFact, ...] = ()  # within the longest frequency-cap period
    recipient: Recipient = field(default_factory=Recipient)
    # The address is the contact's pending one: a form named it, its owner has not confirmed.
    unconfirmed_address: bool = False
    do_not_contact: DoNotContactFact | None = None  # read for marketing on those channels only


def _implied_lifetimes() -> Mapping[Basis, timedelta]:
    # R-CASL-1: implied consent lasts 2 years from a purchase, 6 months from an inquiry.
    # Counted in whole days on the short side (730, 181) so it is never looser than the law.
    # R-EPR-1 sets no term for a soft opt-in; Baton gives it the purchase's 2 years from the
    # sale, so a customer who stopped buying stops getting marketing.
    return MappingProxyType(
        {
            Basis.IMPLIED_PURCHASE: timedelta(days=730),
            Basis.IMPLIED_INQUIRY: timedelta(days=181),
            Basis.SOFT_OPT_IN: timedelta(days=730),
        }
    )


@dataclass(frozen=True, slots=True)
class FrequencyCap:
    """At most `limit` messages of `purpose` (on `channel`, or on any when None) per `period`."""

    purpose: Purpose
    limit: int
    period: timedelta
    channel: Channel | None = None

    def __post_init__(self) -> None:
        if self.limit < 0 or self.period <= timedelta(0):
            raise ValueError("a frequency cap needs a limit of 0 or more and a positive period")

    def applies_to(self, purpose: Purpose, channel: Channel) -> bool:
        return self.purpose == purpose and self.channel in (None, channel)

    @classmethod
    def parse(cls, spec: Mapping[str, object]) -> FrequencyCap:
        """`{"purpose": "marketing", "channel": "sms" | None, "limit": 3, "days": 7}`."""
        channel = spec.get("channel")
        return cls(
            purpose=Purpose(str(spec["purpose"])),
            limit=int(str(spec["limit"])),
            period=timedelta(days=int(str(spec["days"]))),
            channel=Channel(str(channel)) if channel not in (None, "", "any") else None,
        )


def _default_caps() -> tuple[FrequencyCap, ...]:
    return tuple(FrequencyCap.parse(spec) for spec in defaults.FREQUENCY_CAPS)


def _default_calling_windows() -> Mapping[str, WeeklyWindow]:
    return MappingProxyType(
        {
            country: WeeklyWindow.parse(spec, defaults.CALLING_HOLIDAYS.get(country, ()))
            for country, spec in defaults.CALLING_WINDOWS.items()
        }
    )


def _default_regions() -> Mapping[str, DailyWindow]:
    return MappingProxyType(
        {region: DailyWindow.parse(window) for region, window in defaults.QUIET_HOURS_BY_REGION.items()}
    )


@dataclass(frozen=True, slots=True)
class GatePolicy:
    # Suppression reasons that mean "the person opted out" (and so may get one confirmation).
    # Bounces, complaints and erasure are not among them: nothing more is sent after those.
    opt_out_reasons: frozenset[str] = frozenset({str(SuppressionReason.OPT_OUT)})
    # FCC 24-24 (R-TCPA-5): the one confirmation text goes within five minutes of the opt-out.
    opt_out_confirmation_window: timedelta = timedelta(minutes=5)
    implied_consent_lifetimes: Mapping[Basis, timedelta] = field(default_factory=_implied_lifetimes)
    frequency_caps: tuple[FrequencyCap, ...] = field(default_factory=_default_caps)
    # R-TCPA-2: the hours marketing texts and calls may go out, per destination country when
    # named (stricter rules), else `quiet_hours`; never wider than 08:00-21:00.
    quiet_hours: DailyWindow = field(default_factory=lambda: DailyWindow.parse(defaults.QUIET_HOURS))
    # Keyed by country (`US`) or US state (`US-FL`, from the number's area code): the state wins.
    quiet_hours_by_country: Mapping[str, DailyWindow] = field(default_factory=_default_regions)
    quiet_hours_channels: frozenset[Channel] = frozenset({Channel.SMS, Channel.VOICE})
    # R-BR-1: marketing calls to these destination countries keep their weekly window too.
    calling_windows: Mapping[str, WeeklyWindow] = field(default_factory=_default_calling_windows)
    # R-BR-1: the channels whose marketing a do-not-contact list refuses ("Não Me Perturbe"
    # covers telemarketing calls and texts).
    do_not_contact_channels: frozenset[Channel] = frozenset({Channel.SMS, Channel.VOICE})
    # A step's window for a recipient with no known zone at all (not a legal rule).
    default_timezone: str = "UTC"

    def __post_init__(self) -> None:
        legal = DailyWindow.parse(defaults.QUIET_HOURS)
        for window in (self.quiet_hours, *self.quiet_hours_by_country.values()):
            if not window.within(legal):
                raise ValueError(f"quiet hours {window} are looser than R-TCPA-2 ({legal})")
        try:
            ZoneInfo(self.default_timezone)  # fails at start-up, not at the first send
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{self.default_timezone!r} is not an IANA time zone") from None

    def quiet_hours_for(self, region: str | None, country: str | None) -> DailyWindow:
        """The quiet hours of a state (`US-FL`), else of its country, else the default."""
        by_place = self.quiet_hours_by_country
        return by_place.get(region or "") or by_place.get(country or "") or self.quiet_hours

    @property
    def longest_cap_period(self) -> timedelta:
        return max((cap.period for cap in self.frequency_caps), default=timedelta(0))


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
    until: datetime | None = None  # a hold: when the closed window next opens (UTC)

    @property
    def held(self) -> bool:
        """Not now, but decide again at `until` (quiet hours, calling window, step window)."""
        return not self.allowed and self.until is not None


def decide(request: GateRequest, facts: GateFacts, policy: GatePolicy = DEFAULT_POLICY) -> GateDecision:
    if not request.content_approved:
        # R-CANSPAM-3: whether the words are honest is the approver's judgement, of these words.
        return _refuse(Reason.NOT_APPROVED, "R-CANSPAM-3" if request.purpose == Purpose.MARKETING else None)
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
    if facts.unconfirmed_address and request.purpose != Purpose.CONFIRMATION:
        return _refuse(
            Reason.UNCONFIRMED_ADDRESS, "R-CTIA-3" if request.channel in PHONE_CHANNELS else "R-MBX-5"
        )
    if request.purpose == Purpose.TRANSACTIONAL:
        # Transactional skips consent, sales hold, cap and quiet hours; the step's window stays.
        return _timing(request, facts, policy, marketing=False) or GateDecision(True, Reason.ALLOWED)
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
    listed = facts.do_not_contact
    if listed is not None and request.channel in policy.do_not_contact_channels:
        # The regulator's list outranks the contact's consent: no marketing text or call at all.
        return _refuse(Reason.DO_NOT_CONTACT_LIST, listed.rule)
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
    if facts.sales_hold:
        return _refuse(Reason.SALES_HOLD)
    if _cap_reached(request, facts, policy):
        return _refuse(Reason.FREQUENCY_CAP)
    return _timing(request, facts, policy, marketing=True) or GateDecision(True, Reason.ALLOWED, rule)


def counted_caps(purpose: Purpose, channel: Channel, policy: GatePolicy) -> tuple[FrequencyCap, ...]:
    """The caps a send of `purpose` on `channel` counts against (the gate caps marketing only)."""
    if purpose != Purpose.MARKETING:
        return ()
    return tuple(cap for cap in policy.frequency_caps if cap.applies_to(purpose, channel))


def _cap_reached(request: GateRequest, facts: GateFacts, policy: GatePolicy) -> bool:
    for cap in counted_caps(request.purpose, request.channel, policy):
        since = facts.now - cap.period  # rolling: the last `period` up to this moment
        count = sum(
            1
            for sent in facts.recent_sends
            if cap.applies_to(sent.purpose, sent.channel) and since < sent.at <= facts.now
        )
        if count >= cap.limit:
            return True
    return False


@dataclass(frozen=True, slots=True)
class _TimeRule:
    reason: Reason
    rule: str | None
    schedule: Schedule
    zones: tuple[str, ...]


def _timing(
    request: GateRequest, facts: GateFacts, policy: GatePolicy, *, marketing: bool
) -> GateDecision | None:
    """None when every time rule is open now; else a hold until all of them are open at once."""
    recipient = facts.recipient
    phone = request.address if request.channel in PHONE_CHANNELS else recipient.phone
    zones = recipient_zones(recipient.timezone, phone, recipient.country)
    rules: list[_TimeRule] = []
    if marketing and request.channel in policy.quiet_hours_channels:
        legal = legal_zones(recipient.timezone, phone, recipient.country)
        if not legal:
            return _refuse(Reason.UNKNOWN_TIMEZONE, "R-TCPA-2")
        country = number_country(request.address)
        quiet = policy.quiet_hours_for(number_region(request.address), country)
        rules.append(_TimeRule(Reason.QUIET_HOURS, "R-TCPA-2", quiet, legal))
        calling = policy.calling_windows.get(country or "")
        if request.channel == Channel.VOICE and calling is not None:
            rules.append(_TimeRule(Reason.CALLING_WINDOW, "R-BR-1", calling, legal))
    if request.window is not None:
        rules.append(
            _TimeRule(Reason.OUTSIDE_WINDOW, None, request.window, zones or (policy.default_timezone,))
        )
    closed: _TimeRule | None = None
    combined: list[Interval] | None = None
    for rule in rules:
        intervals = _open_in_every_zone(rule, facts.now)
        if closed is None and not is_open(intervals, facts.now):
            closed = rule
        combined = intervals if combined is None else intersect(combined, intervals)
    if closed is None or combined is None:
        return None
    until = next_opening(combined, facts.now)
    if until is None:
        # The windows never overlap (candidate zones too far apart): not a hold, a refusal.
        reason = Reason.UNKNOWN_TIMEZONE if len(closed.zones) > 1 else closed.reason
        return _refuse(reason, closed.rule)
    return GateDecision(False, closed.reason, closed.rule, until=until)


def _open_in_every_zone(rule: _TimeRule, now: datetime) -> list[Interval]:
    result: list[Interval] | None = None
    for zone in rule.zones:
        intervals = open_intervals(rule.schedule, ZoneInfo(zone), now)
        result = intervals if result is None else intersect(result, intervals)
    return result or []


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
