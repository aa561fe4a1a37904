"""No message is delivered that the gate would refuse at the moment of sending.

Hypothesis drives random sequences of consent grants and revocations, STOP / unsubscribe
suppressions and new opt-ins, sales holds on and off, clock moves (into quiet hours, out of a
step's window, across days) and provider outages, interleaved with repeated send-task runs of
a marketing journey's steps with failover, on the embedded AWS (moto DynamoDB, SES, SNS) with
Powertools idempotency. A witness sits in front of the real SES and SNS adapters: for every
message that reaches them it asks `decide`, with facts the test kept itself (not read back
through Baton), at that very virtual moment, and the answer must be "allowed"; and no
(execution, step, channel) ever reaches a provider twice.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import boto3
import pytest
from aws_lambda_powertools import Metrics
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends
from moto.sns.models import sns_backends

import baton.secrets
from baton.clock import FixedClock
from baton.consent.repository import DynamoConsentRepository
from baton.consent.service import ConsentService
from baton.consent.vocabulary import Basis, Channel, ConsentStatus, Source
from baton.contacts.models import ContactInput, Sales
from baton.contacts.repository import DynamoContactRepository
from baton.contacts.service import ContactService
from baton.data.once import DynamoOnceTable
from baton.delivery.adapter import ChannelAdapter
from baton.delivery.exceptions import ProviderUnavailable
from baton.delivery.gate import (
    ConsentFact,
    GateFacts,
    GatePolicy,
    GateRequest,
    Recipient,
    SentFact,
    SuppressionFact,
    decide,
)
from baton.delivery.message import OutboundMessage, Purpose
from baton.delivery.service import Dispatcher
from baton.delivery.ses import SesEmailAdapter
from baton.delivery.sns import SnsSmsAdapter
from baton.delivery.timing import DailyWindow
from baton.journeys.catalog import Catalog
from baton.journeys.models import Journey
from baton.journeys.templates import Template
from baton.runner.context import RunnerContext
from baton.runner.exceptions import RetryLater
from baton.runner.models import StepRequest
from baton.runner.once import SendLedger
from baton.runner.service import JourneyRunner
from baton.settings import Settings
from baton.subscriptions.links import Links
from baton.suppression.models import SuppressionReason
from baton.suppression.repository import DynamoSuppressionRepository
from baton.suppression.service import SuppressionService
from baton.timeline.repository import DynamoTimelineRepository
from baton.timeline.service import TimelineService
from baton.triggers.subjects import InMemorySubjectRepository
from tests.approvals import approved
from tests.subjects import subject_of

REGION = "us-east-1"
START = datetime(2026, 3, 6, 13, 0, tzinfo=UTC)  # Friday 08:00 in New York, two days before DST
NEW_YORK = Recipient(timezone="America/New_York", country="US")
WINDOWS = {"offer": None, "tip": DailyWindow.between("10:00", "16:00")}

PROMO = {
    "journey": "promo",
    "owner": "growth@example.com",
    "purpose": "marketing",
    "topic": "news",
    "review_by": "2027-03-01",
    "trigger": {"event": "lead.created"},
    "steps": [
        {"id": "offer", "send": {"template": "promo", "channels": ["sms", "email"]}},
        {
            "id": "tip",
            "send": {
                "template": "promo",
                "channels": ["email", "sms"],
                "window": {"start": "10:00", "end": "16:00"},
            },
        },
    ],
}
TEMPLATE = {
    "template": "promo",
    "owner": "growth@example.com",
    "purpose": "marketing",
    "approved_by": "legal@example.com",
    "locales": {
        "en": {
            "sms": {"text": "Acme: 20% off this week. Reply STOP to opt out."},
            "email": {"subject": "20% off", "text": "Off! {{ unsubscribe_url }} {{ postal_address }}"},
        }
    },
}


@dataclass
class Model:
    """The facts as the test made them: what it granted, revoked, suppressed, held, sent.
    Each example has a contact of its own, with its own number and email (suppression is by
    address, so addresses are never shared between examples)."""

    phone: str = "+12125550100"
    email: str = "ana@example.com"
    consent: dict[Channel, ConsentStatus] = field(default_factory=dict)
    suppressed: dict[Channel, datetime] = field(default_factory=dict)
    sales_hold: bool = False
    sent: list[SentFact] = field(default_factory=list)


@dataclass
class Witness:
    """In front of the providers: checks the gate at the moment of delivery, then passes on."""

    clock: FixedClock
    model: Model = field(default_factory=Model)
    delivered: set[tuple[str, str, str]] = field(default_factory=set)
    outage: set[Channel] = field(default_factory=set)
    stats: Counter[str] = field(default_factory=Counter)

    def check(self, message: OutboundMessage) -> None:
        if message.channel in self.outage:
            self.outage.discard(message.channel)
            raise ProviderUnavailable("witness", "ServiceUnavailable")
        now = self.clock.now()
        step = message.tags["step"]
        request = GateRequest(
            channel=message.channel,
            purpose=message.purpose,
            address=message.to,
            topic=message.topic,
            has_unsubscribe_url=bool(message.unsubscribe_url),
            window=WINDOWS[step],
        )
        consent = self.model.consent.get(message.channel)
        facts = GateFacts(
            now=now,
            suppression=SuppressionFact(
                str(SuppressionReason.OPT_OUT), self.model.suppressed[message.channel]
            )
            if message.channel in self.model.suppressed
            else None,
            consent=ConsentFact(consent, address=message.to, granted_basis=Basis.EXPRESS)
            if consent
            else None,
            sales_hold=self.model.sales_hold,
            recent_sends=tuple(self.model.sent),
            recipient=NEW_YORK,
        )
        decision = decide(request, facts, GatePolicy())
        assert decision.allowed, f"{message.channel} delivered at {now} although the gate says {decision}"
        key = (message.tags["execution"], step, str(message.channel))
        assert key not in self.delivered, f"{key} delivered twice"
        self.delivered.add(key)
        self.model.sent.append(SentFact(message.channel, message.purpose, now))
        self.stats["delivered"] += 1


class Witnessed(ChannelAdapter):
    provider: ClassVar[str] = "witnessed"

    def __init__(self, inner: ChannelAdapter, witness: Witness) -> None:
        self._inner = inner
        self._witness = witness

    def send(self, message: OutboundMessage) -> str:
        self._witness.check(message)
        return self._inner.send(message)


class WitnessedSms(Witnessed):
    channel: ClassVar[Channel] = Channel.SMS


class WitnessedEmail(Witnessed):
    channel: ClassVar[Channel] = Channel.EMAIL


class LambdaContext:
    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@dataclass
class Stack:
    clock: FixedClock
    consent: ConsentService
    suppression: SuppressionService
    contacts: ContactService
    runner: JourneyRunner
    witness: Witness
    subjects: InMemorySubjectRepository


def _stack(aws: Settings) -> Stack:
    clock = FixedClock(START)
    witness = Witness(clock)
    timeline = TimelineService(DynamoTimelineRepository(aws.timeline_table), clock)
    consent = ConsentService(DynamoConsentRepository(aws.consent_table), timeline, clock)
    suppression = SuppressionService(
        DynamoSuppressionRepository(aws.suppression_table), lambda: baton.secrets.suppression_salt(aws), clock
    )
    contacts = ContactService(
        DynamoContactRepository(aws.contacts_table), consent, timeline, suppression, clock
    )
    boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity="acme.example")
    adapters: dict[Channel, ChannelAdapter] = {
        Channel.SMS: WitnessedSms(SnsSmsAdapter(boto3.client("sns", region_name=REGION)), witness),
        Channel.EMAIL: WitnessedEmail(
            SesEmailAdapter(
                boto3.client("sesv2", region_name=REGION), sender="news@acme.example", clock=clock
            ),
            witness,
        ),
    }
    metrics = Metrics(namespace="BatonPropertyTest")
    dispatcher = Dispatcher(
        adapters, suppression, consent, timeline, metrics=metrics, policy=GatePolicy(), clock=clock
    )
    templates = {"promo": Template.model_validate(TEMPLATE)}
    catalog = Catalog(
        root=Path("journeys"),
        journeys={"promo": Journey.model_validate(PROMO)},
        templates=templates,
        approvals=approved(templates.values()),
    )
    once = SendLedger(
        DynamoOnceTable(aws.idempotency_table, boto3.client("dynamodb", region_name=REGION)), clock
    )
    once.register(LambdaContext())  # what Lambda passes, as the handler does
    links_settings = Settings(public_base_url="https://baton.example.com")
    subjects = InMemorySubjectRepository()
    context = RunnerContext(
        catalog=lambda: catalog,
        contacts=contacts,
        timeline=timeline,
        links=lambda: Links(links_settings, b"k" * 32, clock.now()),
        once=once,
        clock=clock,
        metrics=metrics,
        brand="Acme",
        postal_address="1 Main St",
        subjects=subjects,
    )
    runner = JourneyRunner(context, dispatcher)
    return Stack(clock, consent, suppression, contacts, runner, witness, subjects)


CHANNELS = st.sampled_from([Channel.SMS, Channel.EMAIL])
OPERATIONS = st.one_of(
    st.tuples(st.just("grant"), CHANNELS),
    st.tuples(st.just("revoke"), CHANNELS),
    st.tuples(st.just("stop"), CHANNELS),  # STOP / one-click unsubscribe: suppressed
    st.tuples(st.just("opt_in_again"), CHANNELS),  # a new opt-in lifts the suppression
    st.tuples(st.just("deal"), st.booleans()),
    # Minutes: small steps, into and out of quiet hours and windows, whole days (across DST).
    st.tuples(st.just("advance"), st.sampled_from([17, 45, 90, 180, 400, 720, 1440, 2 * 1440 + 60])),
    st.tuples(st.just("outage"), CHANNELS),
    st.tuples(st.just("send"), st.tuples(st.integers(0, 2), st.sampled_from(["offer", "tip"]))),
    st.tuples(st.just("send"), st.tuples(st.integers(0, 2), st.sampled_from(["offer", "tip"]))),
)


def _address(model: Model, channel: Channel) -> str:
    return model.phone if channel == Channel.SMS else model.email


def _apply(stack: Stack, contact_id: str, executions: list[str], operation: tuple[str, Any]) -> None:
    name, value = operation
    model, now = stack.witness.model, stack.clock.now()
    if name == "grant":
        address = _address(model, value)
        source = Source.KEYWORD if value == Channel.SMS else Source.LINK
        stack.consent.grant(contact_id, value, "news", source=source, basis=Basis.EXPRESS, address=address)
        model.consent[value] = ConsentStatus.GRANTED
    elif name == "revoke":
        stack.consent.revoke(contact_id, value, "news", source=Source.KEYWORD)
        model.consent[value] = ConsentStatus.REVOKED
    elif name == "stop":
        stack.suppression.add(value, _address(model, value), SuppressionReason.OPT_OUT, "keyword")
        model.suppressed.setdefault(value, now)
    elif name == "opt_in_again":
        stack.suppression.remove(value, _address(model, value))
        model.suppressed.pop(value, None)
    elif name == "deal":
        stack.contacts.upsert(contact_id, ContactInput(sales=Sales(deal_open=value)))
        model.sales_hold = value
    elif name == "advance":
        stack.clock.set(now + timedelta(minutes=value))
    elif name == "outage":
        stack.witness.outage.add(value)
    else:
        index, step = value
        stack.subjects.add(subject_of(executions[index], contact_id, "promo"))
        request = StepRequest(action="send", journey="promo", step=step, execution=executions[index])
        try:
            result = stack.runner.handle(request)
        except RetryLater:
            stack.witness.stats["retried"] += 1
            return
        stack.witness.stats[result["outcome"]] += 1


def test_no_message_is_delivered_that_the_gate_would_refuse_at_that_moment(aws: Settings) -> None:
    stack = _stack(aws)
    totals: Counter[str] = Counter()
    numbers = itertools.count(1)
    sms_before = len(sns_backends[DEFAULT_ACCOUNT_ID][REGION].sms_messages)
    email_before = len(ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages)

    @settings(
        max_examples=50,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(granted=st.sets(CHANNELS), operations=st.lists(OPERATIONS, min_size=1, max_size=20))
    def scenario(granted: set[Channel], operations: list[tuple[str, Any]]) -> None:
        number = next(numbers)
        contact_id = f"c-{number:04d}"
        model = Model(phone=f"+1212555{number:04d}", email=f"{contact_id}@example.com")
        stack.clock.set(START)
        stack.witness.model = model
        stack.witness.outage.clear()
        stack.witness.stats.clear()
        stack.contacts.upsert(
            contact_id,
            ContactInput(
                email=model.email, phone=model.phone, timezone="America/New_York", country="US", locale="en"
            ),
        )
        executions = [f"arn:aws:states:{REGION}:1:execution:promo:{contact_id}-{n}" for n in range(3)]
        for operation in [*(("grant", channel) for channel in sorted(granted)), *operations]:
            _apply(stack, contact_id, executions, operation)
        totals.update(stack.witness.stats)

    scenario()

    # Every message that reached moto went through the witness, and the runs covered the ground.
    reached = (
        len(sns_backends[DEFAULT_ACCOUNT_ID][REGION].sms_messages)
        - sms_before
        + len(ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages)
        - email_before
    )
    assert reached == totals["delivered"]
    assert {"sent", "held", "skipped", "retried"} <= set(totals), totals


@pytest.mark.parametrize("hours", [0, 12])
def test_the_witness_itself_refuses_a_marketing_text_without_consent(hours: int) -> None:
    # The property is only as strong as its witness: it must catch a send the gate refuses.
    witness = Witness(FixedClock(START + timedelta(hours=hours)))
    text = OutboundMessage.sms(
        to=witness.model.phone,
        purpose=Purpose.MARKETING,
        text="Acme: hi",
        topic="news",
        tags={"execution": "e", "step": "offer"},
    )

    with pytest.raises(AssertionError, match="although the gate says"):
        witness.check(text)
