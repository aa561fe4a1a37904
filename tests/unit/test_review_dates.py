"""Review dates with teeth: an overdue journey is flagged; a marketing one overdue past the
grace period admits no new contact (events and campaigns start nothing, the timeline says why),
while a transactional one only warns."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from baton.clock import FixedClock
from baton.consent.repository import InMemoryConsentRepository
from baton.consent.service import ConsentService
from baton.contacts.models import ContactInput
from baton.contacts.repository import InMemoryContactRepository
from baton.contacts.service import ContactService
from baton.journeys.catalog import Catalog
from baton.journeys.models import Journey
from baton.journeys.review import NOT_ADMITTED, ReviewPolicy, ReviewState
from baton.suppression.repository import InMemorySuppressionRepository
from baton.suppression.service import SuppressionService
from baton.timeline.repository import InMemoryTimelineRepository
from baton.timeline.service import TimelineService
from baton.triggers.executions import InMemoryExecutions
from baton.triggers.models import EventIn
from baton.triggers.runs import InMemoryRunRepository
from baton.triggers.service import EventService
from baton.triggers.subjects import InMemorySubjectRepository

REVIEW_BY = date(2027, 3, 1)


def _journey(journey_id: str, purpose: str) -> Journey:
    return Journey.model_validate(
        {
            "journey": journey_id,
            "owner": "growth@example.com",
            "purpose": purpose,
            **({"topic": "news"} if purpose == "marketing" else {}),
            "review_by": REVIEW_BY.isoformat(),
            "trigger": {"event": "contact.confirmed"},
            "steps": [{"id": "hello", "send": {"template": "hello", "channels": ["email"]}}],
        }
    )


NEWS = _journey("news", "marketing")
RECEIPT = _journey("receipt", "transactional")


@pytest.mark.parametrize(
    ("today", "marketing", "transactional"),
    [
        (date(2027, 3, 1), ReviewState.CURRENT, ReviewState.CURRENT),  # the review day itself
        (date(2027, 3, 2), ReviewState.OVERDUE, ReviewState.OVERDUE),
        (date(2027, 3, 15), ReviewState.OVERDUE, ReviewState.OVERDUE),  # the 14th day of grace
        (date(2027, 3, 16), ReviewState.CLOSED, ReviewState.OVERDUE),
        (date(2028, 1, 1), ReviewState.CLOSED, ReviewState.OVERDUE),
    ],
)
def test_a_journey_is_overdue_after_its_review_date_and_marketing_closes_after_the_grace(
    today: date, marketing: ReviewState, transactional: ReviewState
) -> None:
    policy = ReviewPolicy(grace_days=14)
    assert (policy.state(NEWS, today), policy.state(RECEIPT, today)) == (marketing, transactional)
    assert policy.closes_on(NEWS) == date(2027, 3, 16)
    assert policy.closes_on(RECEIPT) is None


def test_with_closing_turned_off_an_overdue_marketing_journey_only_warns() -> None:
    policy = ReviewPolicy(grace_days=0, close_marketing=False)
    assert policy.state(NEWS, date(2030, 1, 1)) is ReviewState.OVERDUE
    assert policy.admits(NEWS, date(2030, 1, 1))


class World:
    def __init__(self, now: datetime, policy: ReviewPolicy) -> None:
        self.clock = FixedClock(now)
        self.timeline = TimelineService(InMemoryTimelineRepository(), self.clock)
        consent = ConsentService(InMemoryConsentRepository(), self.timeline, self.clock)
        suppression = SuppressionService(InMemorySuppressionRepository(), lambda: b"salt" * 16, self.clock)
        contacts = ContactService(
            InMemoryContactRepository(), consent, self.timeline, suppression, self.clock
        )
        contacts.upsert("ana", ContactInput(email="ana@example.com"))
        self.executions = InMemoryExecutions()
        self.service = EventService(
            catalog=Catalog(root=Path("journeys"), journeys={"news": NEWS, "receipt": RECEIPT}),
            contacts=contacts,
            timeline=self.timeline,
            runs=InMemoryRunRepository(),
            subjects=InMemorySubjectRepository(),
            executions=self.executions,
            clock=self.clock,
            state_machine_arn_prefix="arn:aws:states:us-east-1:123456789012:stateMachine:Baton-",
            naming_key=lambda: b"n" * 32,
            review=policy,
        )

    def kinds(self, kind: str) -> list[dict[str, Any]]:
        return [dict(e.detail) for e in self.timeline.all("ana") if e.kind == kind]


EVENT = EventIn(contact_id="ana", type="contact.confirmed", data={}, idempotency_key="k1")


def test_an_event_does_not_start_a_closed_marketing_journey_and_the_timeline_says_why() -> None:
    world = World(datetime(2027, 3, 16, 9, tzinfo=UTC), ReviewPolicy(grace_days=14))

    answer = world.service.record(EVENT)

    assert answer.journeys_started == ["receipt"]  # overdue too, but transactional: it still runs
    (refused,) = world.kinds(NOT_ADMITTED)
    assert refused == {
        "journey": "news",
        "reason": "review_overdue",
        "review_by": "2027-03-01",
        "event_type": "contact.confirmed",
        "owner": "growth@example.com",
    }
    (received,) = world.kinds("event.received")
    assert received["journeys_not_admitted"] == ["news"]
    (started,) = world.executions.statuses  # one execution: the transactional journey's
    assert started.split(":")[-2].endswith("receipt")


def test_an_overdue_marketing_journey_still_admits_contacts_during_the_grace() -> None:
    world = World(datetime(2027, 3, 15, 23, 59, tzinfo=UTC), ReviewPolicy(grace_days=14))

    assert world.service.record(EVENT).journeys_started == ["news", "receipt"]
    assert world.kinds(NOT_ADMITTED) == []
