"""The journeys inventory (`GET /v1/journeys`): who owns what, what triggers it, what it sends,
how a run over an audience reaches its contacts, and whether its review date has passed."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, EmailStr

from baton.clock import Clock
from baton.journeys.catalog import Catalog
from baton.journeys.models import Journey, Purpose, StepKind
from baton.journeys.paths import Path, journey_path
from baton.triggers.exceptions import JourneyNotFound


class StepSummary(BaseModel):
    id: str
    kind: StepKind
    next: list[str]  # where it may go: one step id (or `end`), several for a branch


class JourneyInfo(BaseModel):
    id: str
    description: str | None
    owner: EmailStr
    purpose: Purpose
    topic: str | None
    trigger: dict[str, str]  # {event} or {schedule, segment}
    exit_on: list[str]
    steps: list[StepSummary]
    channels: list[str]
    templates: list[str]
    review_by: date
    review_overdue: bool  # review_by is before today (UTC)
    # A campaign or schedule over an audience: a batch task per 100 contacts, or an execution
    # per contact (`baton.journeys.paths`), and why.
    audience_path: Path
    audience_path_why: str


class JourneyList(BaseModel):
    items: list[JourneyInfo]


def _destinations(journey: Journey, index: int) -> list[str]:
    step = journey.steps[index]
    if step.branch is not None:
        return list(dict.fromkeys([*(case.next for case in step.branch.cases), step.branch.default]))
    return [journey.next_of(index)]


def describe(journey: Journey, today: date) -> JourneyInfo:
    return JourneyInfo(
        id=journey.journey,
        description=journey.description,
        owner=journey.owner,
        purpose=journey.purpose,
        topic=journey.topic,
        trigger=journey.trigger.model_dump(exclude_none=True),
        exit_on=list(journey.exit_on),
        steps=[
            StepSummary(id=step.id, kind=step.kind, next=_destinations(journey, index))
            for index, step in enumerate(journey.steps)
        ],
        channels=[channel.value for channel in journey.channels],
        templates=journey.templates,
        review_by=journey.review_by,
        review_overdue=journey.review_by < today,
        audience_path=(path := journey_path(journey)).path,
        audience_path_why=path.why,
    )


class Inventory:
    def __init__(self, catalog: Catalog, clock: Clock) -> None:
        self._catalog = catalog
        self._clock = clock

    def list(self) -> JourneyList:
        today = self._clock.now().date()
        return JourneyList(
            items=[describe(journey, today) for _, journey in sorted(self._catalog.journeys.items())]
        )

    def get(self, journey_id: str) -> JourneyInfo:
        journey = self._catalog.journeys.get(journey_id)
        if journey is None:
            raise JourneyNotFound(journey_id)
        return describe(journey, self._clock.now().date())
