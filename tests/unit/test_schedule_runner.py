"""SegmentRun on in-memory repositories: who a scheduled run starts, and that it starts them once."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from baton.clock import FixedClock
from baton.journeys.catalog import Catalog, load_catalog
from baton.schedules.runner import (
    InMemoryContactSource,
    NotScheduled,
    ScheduleRunIncomplete,
    SegmentRun,
    idempotency_key,
    parse_schedule_time,
    schedule_time_iso,
)
from baton.timeline.repository import InMemoryTimelineRepository
from baton.timeline.service import TimelineService
from baton.triggers.exceptions import JourneyNotFound, JourneysNotConfigured
from baton.triggers.executions import InMemoryExecutions, execution_arn
from baton.triggers.naming import execution_name
from baton.triggers.runs import InMemoryRunRepository
from baton.triggers.subjects import InMemorySubjectRepository

ROOT = Path(__file__).resolve().parents[2]
CATALOG: Catalog = load_catalog(ROOT / "journeys")
PREFIX = "arn:aws:states:us-east-1:123456789012:stateMachine:Baton-"
NAMING_KEY = b"n" * 32
FIRST_OF_JUNE = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)

CONTACTS: list[dict[str, Any]] = [
    {"contact_id": "ana", "attributes": {"tier": "gold", "bought_this_year": True}},
    {"contact_id": "bo", "attributes": {"tier": "silver", "bought_this_year": True}},
    {"contact_id": "cy", "attributes": {"tier": "gold", "bought_this_year": False}},
    {"contact_id": "di", "attributes": {"tier": "gold", "bought_this_year": True}, "locale": "pt-BR"},
    {"contact_id": "ed"},
]


class FlakyExecutions(InMemoryExecutions):
    """Refuses to start the executions named (the input names no contact)."""

    def __init__(self, failing: set[str]) -> None:
        super().__init__()
        self.failing = failing

    def start(self, state_machine_arn: str, name: str, input_json: str) -> str:
        if name in self.failing:
            raise RuntimeError("throttled")
        return super().start(state_machine_arn, name, input_json)


class World:
    def __init__(self, prefix: str = PREFIX, executions: InMemoryExecutions | None = None) -> None:
        self.clock = FixedClock(FIRST_OF_JUNE)
        self.timeline = TimelineService(InMemoryTimelineRepository(), self.clock)
        self.runs = InMemoryRunRepository()
        self.subjects = InMemorySubjectRepository()
        self.executions = executions or InMemoryExecutions()
        self.run = SegmentRun(
            catalog=CATALOG,
            contacts=InMemoryContactSource(CONTACTS, page_size=2),
            timeline=self.timeline,
            runs=self.runs,
            subjects=self.subjects,
            executions=self.executions,
            clock=self.clock,
            state_machine_arn_prefix=prefix,
            naming_key=lambda: NAMING_KEY,
        )

    def started(self, contact_id: str) -> list[dict[str, Any]]:
        return [dict(e.detail) for e in self.timeline.all(contact_id) if e.kind == "journey.started"]


def test_the_run_starts_the_journey_for_every_contact_of_the_segment_across_pages() -> None:
    world = World()

    result = world.run.run("gold-monthly", FIRST_OF_JUNE)

    assert (result.scanned, result.matched, result.started) == (5, 2, 2)
    key = "schedule:gold-monthly:2026-06-01T09:00:00Z"
    assert set(world.executions.statuses) == {
        execution_arn(
            f"{PREFIX}gold-monthly",
            execution_name("gold-monthly", contact, key, key=NAMING_KEY, generation=None),
        )
        for contact in ("ana", "di")
    }
    arn = execution_arn(
        f"{PREFIX}gold-monthly", execution_name("gold-monthly", "ana", key, key=NAMING_KEY, generation=None)
    )
    assert json.loads(world.executions.inputs[arn]) == {"event": {"type": "schedule"}, "steps": {}}
    subject = world.subjects.get(arn.rsplit(":", 1)[1])
    assert subject is not None
    assert (subject.contact_id, subject.data) == (
        "ana",
        {"scheduled_time": "2026-06-01T09:00:00Z", "segment": "gold-customers"},
    )
    assert world.started("ana")[0]["idempotency_key"] == key
    assert world.started("bo") == []


def test_a_retried_run_starts_nothing_new_and_records_nothing_twice() -> None:
    world = World()
    world.run.run("gold-monthly", FIRST_OF_JUNE)

    again = world.run.run("gold-monthly", parse_schedule_time("2026-06-01T09:00:00.000Z"))

    assert again.started == 0
    assert len(world.executions.statuses) == 2
    assert len(world.started("ana")) == 1


def test_the_next_schedule_time_starts_a_new_run() -> None:
    world = World()
    world.run.run("gold-monthly", FIRST_OF_JUNE)

    world.run.run("gold-monthly", datetime(2026, 7, 1, 9, tzinfo=UTC))

    assert len(world.executions.statuses) == 4
    assert len(world.started("di")) == 2


def test_one_contact_failing_does_not_stop_the_others_and_the_run_is_retried() -> None:
    key = idempotency_key("gold-monthly", FIRST_OF_JUNE)
    executions = FlakyExecutions(
        {execution_name("gold-monthly", "ana", key, key=NAMING_KEY, generation=None)}
    )
    world = World(executions=executions)

    with pytest.raises(ScheduleRunIncomplete) as failure:
        world.run.run("gold-monthly", FIRST_OF_JUNE)

    assert failure.value.failed == ["ana"]
    assert len(world.started("di")) == 1
    executions.failing.clear()
    assert world.run.run("gold-monthly", FIRST_OF_JUNE).started == 1  # ana only
    assert len(world.started("di")) == 1


def test_unknown_unscheduled_or_unconfigured_journeys_are_refused() -> None:
    with pytest.raises(JourneyNotFound):
        World().run.run("nope", FIRST_OF_JUNE)
    with pytest.raises(NotScheduled):
        World().run.run("welcome", FIRST_OF_JUNE)
    with pytest.raises(JourneysNotConfigured):
        World(prefix="").run.run("gold-monthly", FIRST_OF_JUNE)


def test_schedule_times_are_keyed_in_utc_to_the_second() -> None:
    moment = parse_schedule_time("2026-06-01T11:00:00+02:00")
    assert schedule_time_iso(moment) == "2026-06-01T09:00:00Z"
    assert idempotency_key("gold-monthly", moment) == "schedule:gold-monthly:2026-06-01T09:00:00Z"
