"""No campaign message goes out that the gate would refuse at the moment of sending.

Hypothesis draws a batch of contacts (in New York, where it is day, and in Tokyo, where it is
night) with random consents, and random changes made while the batch runs, between one contact
and the next: consents granted and revoked, STOP / unsubscribe suppressions and new opt-ins,
sales holds opened and closed. A witness in front of the real SES and SNS adapters decides with
`decide`, on facts the test kept itself (not read back through Baton), at that moment, and must
find every message allowed; no contact gets two messages of one run; and a contact the batch
handed on (held by quiet hours) got nothing from the batch.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from baton import bootstrap
from baton.campaigns.batch import BatchRequest
from baton.campaigns.models import CampaignStatus
from baton.campaigns.runs import DynamoCampaignRuns
from baton.clock import Clock, FixedClock
from baton.consent.vocabulary import Basis, Channel, ConsentStatus, Source
from baton.contacts.models import ContactInput, Sales
from baton.delivery.adapter import ChannelAdapter
from baton.delivery.gate import (
    ConsentFact,
    GateFacts,
    GatePolicy,
    GateRequest,
    Recipient,
    SuppressionFact,
    decide,
)
from baton.delivery.message import OutboundMessage, Purpose
from baton.runner.exceptions import Throttled
from baton.suppression.models import SuppressionReason
from tests.integration.test_campaign_batch import NOW, _batch, _run, journeys, world  # noqa: F401

BATCH = 5
ZONES = ("America/New_York", "Asia/Tokyo")


@dataclass
class Person:
    contact_id: str
    email: str
    phone: str
    zone: str
    consent: dict[Channel, ConsentStatus] = field(default_factory=dict)
    suppressed: set[Channel] = field(default_factory=set)
    sales_hold: bool = False


@dataclass
class Witness:
    clock: Clock
    people: dict[str, Person] = field(default_factory=dict)  # by address
    reached: Counter[str] = field(default_factory=Counter)  # messages per contact

    def check(self, message: OutboundMessage) -> None:
        person = self.people[message.to]
        request = GateRequest(
            channel=message.channel,
            purpose=message.purpose,
            address=message.to,
            topic=message.topic,
            has_unsubscribe_url=bool(message.unsubscribe_url),
        )
        consent = person.consent.get(message.channel)
        facts = GateFacts(
            now=self.clock.now(),
            suppression=SuppressionFact(str(SuppressionReason.OPT_OUT), NOW)
            if message.channel in person.suppressed
            else None,
            consent=ConsentFact(consent, address=message.to, granted_basis=Basis.EXPRESS)
            if consent
            else None,
            sales_hold=person.sales_hold,
            recipient=Recipient(timezone=person.zone, country="US", phone=person.phone),
        )
        decision = decide(request, facts, GatePolicy())
        assert decision.allowed, f"{message.channel} to {person.contact_id} although the gate says {decision}"
        assert not self.reached[person.contact_id], f"{person.contact_id} got two messages of one run"

    def took(self, message: OutboundMessage) -> None:
        """The provider took it (not refused by the account's rate before it was sent)."""
        self.reached[self.people[message.to].contact_id] += 1


class _Witnessed(ChannelAdapter):
    provider: ClassVar[str] = "witnessed"

    def __init__(self, inner: ChannelAdapter, witness: Witness) -> None:
        self._inner = inner
        self._witness = witness
        self.channel = inner.channel  # type: ignore[misc]

    def send(self, message: OutboundMessage) -> str:
        self._witness.check(message)
        provider_id = self._inner.send(message)
        self._witness.took(message)
        return provider_id


CHANNELS = st.sampled_from([Channel.SMS, Channel.EMAIL])
CHANGE = st.tuples(
    st.integers(0, BATCH),  # before which contact of the batch it happens
    st.integers(0, BATCH - 1),  # to whom
    st.sampled_from(["grant", "revoke", "stop", "opt_in_again", "deal_open", "deal_closed"]),
    CHANNELS,
)
PERSON = st.tuples(st.sampled_from(ZONES), st.booleans(), st.sets(CHANNELS))  # zone, vip, consents


def _change(s: bootstrap.Services, person: Person, operation: str, channel: Channel) -> None:
    address = person.phone if channel == Channel.SMS else person.email
    if operation == "grant":
        # The person's own opt-in (a reply, a link): after a revocation only that re-subscribes.
        source = Source.KEYWORD if channel == Channel.SMS else Source.LINK
        s.consent.grant(
            person.contact_id, channel, "news", source=source, basis=Basis.EXPRESS, address=address
        )
        person.consent[channel] = ConsentStatus.GRANTED
    elif operation == "revoke":
        s.consent.revoke(person.contact_id, channel, "news", source=Source.KEYWORD)
        person.consent[channel] = ConsentStatus.REVOKED
    elif operation == "stop":
        s.suppression.add(channel, address, SuppressionReason.OPT_OUT, "keyword")
        person.suppressed.add(channel)
    elif operation == "opt_in_again":
        s.suppression.remove(channel, address)
        person.suppressed.discard(channel)
    else:
        s.contacts.upsert(person.contact_id, ContactInput(sales=Sales(deal_open=operation == "deal_open")))
        person.sales_hold = operation == "deal_open"


def test_no_campaign_message_goes_out_that_the_gate_would_refuse_at_that_moment(
    world: bootstrap.Services,  # noqa: F811
) -> None:
    witness = Witness(world.clock)
    adapters = world.dispatcher._adapters
    for channel in (Channel.SMS, Channel.EMAIL):
        adapters[channel] = _Witnessed(adapters[channel], witness)
    runs = _run(world)
    clock = world.clock
    assert isinstance(clock, FixedClock)
    numbers = itertools.count(1)
    totals: Counter[str] = Counter()

    @settings(
        max_examples=25,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(people=st.lists(PERSON, min_size=BATCH, max_size=BATCH), changes=st.lists(CHANGE, max_size=8))
    def scenario(
        people: list[tuple[str, bool, set[Channel]]], changes: list[tuple[int, int, str, Channel]]
    ) -> None:
        batch = next(numbers)
        persons: list[Person] = []
        for position, (zone, vip, consents) in enumerate(people):
            number = batch * 10 + position
            person = Person(f"c-{number:04d}", f"c-{number:04d}@example.com", f"+1212555{number:04d}", zone)
            world.contacts.upsert(
                person.contact_id,
                ContactInput(
                    email=person.email,
                    phone=person.phone,
                    first_name="Ana",
                    timezone=zone,
                    country="US",
                    locale="en",
                    attributes={"vip": vip, "newsletter": True},
                ),
            )
            for channel in sorted(consents):
                _change(world, person, "grant", channel)
            witness.people[person.email] = witness.people[person.phone] = person
            persons.append(person)
        reads = itertools.count()

        def status(run_id: str) -> CampaignStatus:
            # Between one contact and the next: the changes drawn for this moment.
            now = next(reads)
            for before, whom, operation, channel in changes:
                if before == now:
                    _change(world, persons[whom], operation, channel)
            return DynamoCampaignRuns.status(runs, run_id)

        request = BatchRequest("run-1", batch, [person.contact_id for person in persons])
        for _ in range(30):
            sender = _batch(world)
            sender._runs.status = status  # type: ignore[method-assign]
            try:
                result = sender.run(request)
                break
            except Throttled:
                # The account's rate for this second is taken: Step Functions runs the batch
                # again a little later, as here.
                clock.set(clock.now() + timedelta(seconds=2))
        else:
            raise AssertionError("the batch never got through the provider's rate")
        totals.update(
            label.partition(":")[0] for label in result.outcomes for _ in range(result.outcomes[label])
        )
        for label, count in result.outcomes.items():
            if label == "handed_on":
                assert count <= sum(1 for person in persons if person.zone == "Asia/Tokyo")

    scenario()

    assert sum(witness.reached.values()) == totals["sent"]
    assert {"sent", "skipped", "handed_on"} <= set(totals), totals


def test_the_witness_itself_refuses_a_text_to_a_person_with_an_open_deal() -> None:
    person = Person("c-1", "c-1@example.com", "+12125550001", "America/New_York", sales_hold=True)
    person.consent[Channel.SMS] = ConsentStatus.GRANTED
    witness = Witness(FixedClock(NOW), people={person.phone: person})
    text = OutboundMessage.sms(to=person.phone, purpose=Purpose.MARKETING, text="Acme: hi", topic="news")

    with pytest.raises(AssertionError, match="although the gate says"):
        witness.check(text)
