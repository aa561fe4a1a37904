"""The dispatcher: gate, send, record. Every send, refusal and failure lands on the timeline."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest
from aws_lambda_powertools import Metrics

from baton.clock import FixedClock
from baton.consent.vocabulary import Channel, ConsentStatus
from baton.delivery.adapter import ChannelAdapter
from baton.delivery.exceptions import DeliveryError, ProviderRejected, ProviderUnavailable
from baton.delivery.gate import Reason
from baton.delivery.message import OutboundMessage, Purpose
from baton.delivery.service import (
    MESSAGE_FAILED,
    MESSAGE_REFUSED,
    MESSAGE_SENT,
    METRIC_FAILED,
    METRIC_REFUSED,
    METRIC_SENT,
    METRIC_UNRECORDED,
    Dispatcher,
    Outcome,
)
from baton.logs import is_personal_key
from baton.suppression.models import SuppressionReason

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
PHONE = "+442079460000"  # London: the quiet hours (R-TCPA-2) read Europe/London


class FakeSms(ChannelAdapter):
    channel: ClassVar[Channel] = Channel.SMS
    provider: ClassVar[str] = "fake-sms"

    def __init__(self, error: DeliveryError | None = None) -> None:
        self.sent: list[OutboundMessage] = []
        self.error = error

    def send(self, message: OutboundMessage) -> str:
        if self.error:
            raise self.error
        self.sent.append(message)
        return f"msg-{len(self.sent)}"


@dataclass(frozen=True)
class Entry:
    reason: str
    created_at: datetime


@dataclass(frozen=True)
class State:
    status: str
    address: str | None = PHONE
    granted_at: datetime | None = None
    granted_basis: str | None = None


@dataclass
class FakeSuppression:
    entries: dict[tuple[Channel, str], Entry] = field(default_factory=dict)

    def check(self, channel: Channel, address: str) -> Entry | None:
        return self.entries.get((channel, address))


@dataclass
class FakeConsent:
    states: dict[tuple[str, Channel, str], State] = field(default_factory=dict)
    reads: int = 0

    def state(self, contact_id: str, channel: Channel, topic: str) -> State | None:
        self.reads += 1
        return self.states.get((contact_id, channel, topic))


@dataclass
class FakeTimeline:
    events: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    broken: bool = False

    def record(self, contact_id: str, kind: str, detail: Mapping[str, Any]) -> object:
        if self.broken:
            raise RuntimeError("timeline table unavailable")
        self.events.append((contact_id, kind, dict(detail)))
        return None


@dataclass
class World:
    sms: FakeSms
    suppression: FakeSuppression
    consent: FakeConsent
    timeline: FakeTimeline
    clock: FixedClock
    metrics: Metrics
    dispatcher: Dispatcher

    def counted(self, name: str) -> int:
        return len(self.metrics.metric_set.get(name, {}).get("Value", []))


def _world(sms: FakeSms | None = None, do_not_contact: FakeDoNotContact | None = None) -> World:
    sms = sms or FakeSms()
    suppression, consent, timeline = FakeSuppression(), FakeConsent(), FakeTimeline()
    clock, metrics = FixedClock(NOW), Metrics(namespace="BatonTest")
    dispatcher = Dispatcher(
        {Channel.SMS: sms},
        suppression,
        consent,
        timeline,
        metrics=metrics,
        clock=clock,
        do_not_contact=do_not_contact,
    )
    return World(sms, suppression, consent, timeline, clock, metrics, dispatcher)


@pytest.fixture(autouse=True)
def _fresh_metrics() -> Iterator[None]:
    Metrics(namespace="BatonTest").clear_metrics()
    yield
    Metrics(namespace="BatonTest").clear_metrics()


def _marketing_sms(text: str = "Acme: 20% off today. Reply STOP to opt out.") -> OutboundMessage:
    return OutboundMessage.sms(to=PHONE, purpose=Purpose.MARKETING, text=text, topic="offers")


def _grant(world: World) -> None:
    world.consent.states[("c-1", Channel.SMS, "offers")] = State(ConsentStatus.GRANTED)


def test_allowed_message_is_sent_and_recorded_with_the_provider_message_id() -> None:
    world = _world()
    _grant(world)

    result = world.dispatcher.send("c-1", _marketing_sms())

    assert (result.outcome, result.provider, result.provider_message_id) == (
        Outcome.SENT,
        "fake-sms",
        "msg-1",
    )
    assert result.sent
    [(contact_id, kind, detail)] = world.timeline.events
    assert (contact_id, kind) == ("c-1", MESSAGE_SENT)
    assert detail == {
        "channel": "sms",
        "address": PHONE,
        "purpose": "marketing",
        "topic": "offers",
        "preview": "Acme: 20% off today. Reply STOP to opt out.",
        "encoding": "GSM-7",
        "parts": 1,
        "provider": "fake-sms",
        "provider_message_id": "msg-1",
    }
    assert world.counted(METRIC_SENT) == 1


def test_r_ctia_1_suppressed_number_is_refused_and_the_refusal_recorded() -> None:
    world = _world()
    _grant(world)
    world.suppression.entries[(Channel.SMS, PHONE)] = Entry(
        SuppressionReason.OPT_OUT, NOW - timedelta(days=1)
    )

    result = world.dispatcher.send("c-1", _marketing_sms())

    assert (result.outcome, result.reason, result.rule) == (Outcome.REFUSED, Reason.SUPPRESSED, "R-TCPA-3")
    assert world.sms.sent == []
    [(_, kind, detail)] = world.timeline.events
    assert kind == MESSAGE_REFUSED
    assert (detail["reason"], detail["rule"], detail["address"]) == ("suppressed", "R-TCPA-3", PHONE)
    assert world.counted(METRIC_REFUSED) == 1


def test_r_tcpa_1_marketing_without_consent_is_refused() -> None:
    world = _world()

    result = world.dispatcher.send("c-1", _marketing_sms())

    assert (result.outcome, result.reason) == (Outcome.REFUSED, Reason.NO_CONSENT)
    assert world.sms.sent == []


def test_r_tcpa_4_a_revocation_counts_before_the_very_next_send() -> None:
    world = _world()
    _grant(world)
    assert world.dispatcher.send("c-1", _marketing_sms()).sent

    world.consent.states[("c-1", Channel.SMS, "offers")] = State(ConsentStatus.REVOKED)

    assert world.dispatcher.send("c-1", _marketing_sms()).reason == Reason.NO_CONSENT
    assert len(world.sms.sent) == 1


def test_transactional_message_does_not_read_consent() -> None:
    world = _world()

    result = world.dispatcher.send(
        "c-1", OutboundMessage.sms(to=PHONE, purpose=Purpose.TRANSACTIONAL, text="Code 1")
    )

    assert result.sent
    assert world.consent.reads == 0


def test_channel_without_an_adapter_is_refused_and_recorded() -> None:
    world = _world()
    email = OutboundMessage.email(to="a@example.com", purpose=Purpose.TRANSACTIONAL, subject="Hi", text="Hi")

    result = world.dispatcher.send("c-1", email)

    assert (result.outcome, result.reason) == (Outcome.REFUSED, Reason.NO_ADAPTER)
    assert world.timeline.events[0][1] == MESSAGE_REFUSED
    assert world.timeline.events[0][2]["subject"] == "Hi"


def test_a_channel_without_an_adapter_still_records_what_the_gate_refuses() -> None:
    world = _world()
    world.suppression.entries[(Channel.EMAIL, "a@example.com")] = Entry("opt_out", NOW)
    email = OutboundMessage.email(to="a@example.com", purpose=Purpose.TRANSACTIONAL, subject="Hi", text="Hi")

    result = world.dispatcher.send("c-1", email)

    assert (result.outcome, result.reason) == (Outcome.REFUSED, Reason.SUPPRESSED)
    assert world.timeline.events[0][2]["reason"] == "suppressed"


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (ProviderUnavailable("fake-sms", "ThrottlingException"), True),
        (ProviderRejected("fake-sms", "Opted"), False),
    ],
)
def test_provider_failure_is_recorded_counted_and_returned_not_lost(
    error: DeliveryError, retryable: bool
) -> None:
    world = _world(FakeSms(error))
    _grant(world)

    result = world.dispatcher.send("c-1", _marketing_sms())

    assert (result.outcome, result.error_code, result.retryable) == (Outcome.FAILED, error.code, retryable)
    [(_, kind, detail)] = world.timeline.events
    assert kind == MESSAGE_FAILED
    assert (detail["error_code"], detail["retryable"], detail["provider"]) == (
        error.code,
        retryable,
        "fake-sms",
    )
    assert world.counted(METRIC_FAILED) == 1


def test_a_sent_message_is_never_reported_as_failed_when_the_timeline_write_fails() -> None:
    world = _world()
    _grant(world)
    world.timeline.broken = True

    result = world.dispatcher.send("c-1", _marketing_sms())

    assert result.sent  # raising here would invite a retry, and a second text
    assert world.counted(METRIC_UNRECORDED) == 1


def test_a_sent_message_the_timeline_missed_is_logged_with_its_ids_not_the_number_or_text(
    caplog: pytest.LogCaptureFixture,
) -> None:
    world = _world()
    _grant(world)
    world.timeline.broken = True
    text = "Acme: 20% off today. Reply STOP to opt out."

    with caplog.at_level(logging.DEBUG):
        world.dispatcher.send("c-1", _marketing_sms(text))

    [record] = [r for r in caplog.records if r.getMessage() == "Sent message not recorded on the timeline"]
    extra = {key: value for key, value in vars(record).items() if key not in vars(logging.makeLogRecord({}))}
    # What reconciles the message stays; the number, the text and every personal field do not.
    assert (extra["contact_id"], extra["channel"], extra["provider_message_id"]) == ("c-1", "sms", "msg-1")
    assert not [key for key in extra if is_personal_key(key)]
    assert PHONE not in repr(extra)
    assert text not in repr(extra)


def test_a_refusal_that_cannot_be_recorded_raises_so_the_caller_retries() -> None:
    world = _world()
    world.timeline.broken = True

    with pytest.raises(RuntimeError):
        world.dispatcher.send("c-1", _marketing_sms())


def test_r_tcpa_5_one_opt_out_confirmation_right_after_stop_then_nothing() -> None:
    world = _world()
    world.suppression.entries[(Channel.SMS, PHONE)] = Entry(SuppressionReason.OPT_OUT, NOW)
    confirmation = OutboundMessage.sms(
        to=PHONE, purpose=Purpose.OPT_OUT_CONFIRMATION, text="Acme: You are unsubscribed."
    )

    assert world.dispatcher.send("c-1", confirmation).sent

    world.clock.set(NOW + timedelta(minutes=6))
    assert world.dispatcher.send("c-1", confirmation).reason == Reason.OPT_OUT_WINDOW_CLOSED
    assert world.dispatcher.send("c-1", _marketing_sms()).reason == Reason.SUPPRESSED


def test_r_tcpa_1_consent_recorded_for_an_old_number_does_not_reach_a_new_one() -> None:
    world = _world()
    world.consent.states[("c-1", Channel.SMS, "offers")] = State(
        ConsentStatus.GRANTED, address="+15555550199"
    )

    assert world.dispatcher.send("c-1", _marketing_sms()).reason == Reason.CONSENT_FOR_OTHER_ADDRESS


def test_r_casl_1_expired_implied_consent_is_read_from_the_consent_state() -> None:
    world = _world()
    world.consent.states[("c-1", Channel.SMS, "offers")] = State(
        ConsentStatus.GRANTED, granted_at=NOW - timedelta(days=800), granted_basis="implied_purchase"
    )

    assert world.dispatcher.send("c-1", _marketing_sms()).reason == Reason.CONSENT_EXPIRED


def test_check_decides_without_sending_or_recording() -> None:
    world = _world()

    decision = world.dispatcher.check("c-1", _marketing_sms())

    assert (decision.allowed, decision.reason) == (False, Reason.NO_CONSENT)
    assert world.timeline.events == []
    assert world.sms.sent == []


@dataclass(frozen=True)
class Listed:
    name: str = "br_nao_me_perturbe"
    rule: str = "R-BR-1"


@dataclass
class FakeDoNotContact:
    numbers: set[str] = field(default_factory=set)
    reads: int = 0

    def listed(self, address: str) -> Listed | None:
        self.reads += 1
        return Listed() if address in self.numbers else None


def test_r_br_1_a_marketing_text_to_a_listed_number_is_refused_and_the_refusal_recorded() -> None:
    lists = FakeDoNotContact({PHONE})
    world = _world(do_not_contact=lists)
    _grant(world)

    result = world.dispatcher.send("c-1", _marketing_sms())

    assert (result.outcome, result.reason, result.rule) == (
        Outcome.REFUSED,
        Reason.DO_NOT_CONTACT_LIST,
        "R-BR-1",
    )
    assert world.sms.sent == []
    [(_, kind, detail)] = world.timeline.events
    assert (kind, detail["reason"], detail["rule"]) == (MESSAGE_REFUSED, "do_not_contact_list", "R-BR-1")


@pytest.mark.parametrize(
    "message",
    [
        OutboundMessage.sms(to=PHONE, purpose=Purpose.TRANSACTIONAL, text="Code 1"),
        OutboundMessage.sms(to=PHONE, purpose=Purpose.HELP_REPLY, text="Acme help"),
        OutboundMessage.email(
            to="ana@example.com", purpose=Purpose.MARKETING, subject="News", text="News", topic="offers"
        ),
    ],
    ids=["transactional-sms", "help-reply", "marketing-email"],
)
def test_r_br_1_sends_the_list_cannot_refuse_cost_no_list_read(message: OutboundMessage) -> None:
    lists = FakeDoNotContact({PHONE})
    world = _world(do_not_contact=lists)

    world.dispatcher.send("c-1", message)

    assert lists.reads == 0
