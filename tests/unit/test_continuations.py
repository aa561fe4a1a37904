"""A run handed on to a new execution (R-REL-1), on in-memory parts: the name, the subject and
run that go with it, a retried hand-over, and an exit or an erasure while it is handed on."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from baton.clock import FixedClock
from baton.timeline.repository import InMemoryTimelineRepository
from baton.timeline.service import TimelineService
from baton.triggers.continuation import EXITED_ERROR, JOURNEY_CONTINUED, Continuations
from baton.triggers.executions import InMemoryExecutions, execution_arn, state_machine_of
from baton.triggers.models import Run, RunStatus
from baton.triggers.naming import MAX_EXECUTION_NAME, continuation_name
from baton.triggers.runs import InMemoryRunRepository
from baton.triggers.subjects import InMemorySubjectRepository, Subject

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:Baton-reminders"
OLD = "reminders-" + "a" * 40
OLD_ARN = execution_arn(MACHINE, OLD)
NEW = continuation_name(OLD)
STEPS: dict[str, Any] = {"remind": {"outcome": "sent", "channel": "email"}}
PASSES: dict[str, Any] = {"remind": {"n": 7}}


class World:
    def __init__(self) -> None:
        self.clock = FixedClock(NOW)
        self.subjects = InMemorySubjectRepository()
        self.runs = InMemoryRunRepository()
        self.executions = InMemoryExecutions()
        self.timeline = TimelineService(InMemoryTimelineRepository(), self.clock)
        self.counted: list[str] = []
        self.continuations = Continuations(
            self.subjects, self.runs, self.executions, self.timeline, self.clock, self.counted.append
        )
        self.subject = Subject(
            execution_name=OLD,
            contact_id="ana",
            journey="reminders",
            event_type="invoice.sent",
            data={"n": 1},
        )
        self.subjects.add(self.subject)
        self.executions.statuses[OLD_ARN] = RunStatus.RUNNING
        self.runs.add(
            Run(
                contact_id="ana",
                journey="reminders",
                execution_name=OLD,
                execution_arn=OLD_ARN,
                started_at=NOW,
                event_type="invoice.sent",
                idempotency_key="invoice-1",
            )
        )

    def hand_on(self) -> str:
        return self.continuations.continue_run(
            OLD_ARN, self.subject, resume="remind", steps=STEPS, passes=PASSES
        )

    def run(self, name: str) -> Run:
        (run,) = [r for r in self.runs.of_contact("ana") if r.execution_name == name]
        return run

    def continued(self) -> list[dict[str, Any]]:
        return [dict(e.detail) for e in self.timeline.all("ana") if e.kind == JOURNEY_CONTINUED]


@pytest.fixture
def world() -> World:
    return World()


def test_r_rel_1_the_continuation_is_named_from_the_execution_deterministically_and_fits() -> None:
    assert continuation_name(OLD) == NEW
    assert NEW != OLD
    assert NEW.startswith("reminders-")
    assert continuation_name(NEW) not in (OLD, NEW)
    long_name = "j" * 39 + "-" + "b" * 40
    assert len(continuation_name(long_name)) <= MAX_EXECUTION_NAME
    assert state_machine_of(OLD_ARN) == MACHINE


def test_r_rel_1_the_new_execution_takes_the_run_on_where_it_was_with_whom_it_is_about(world: World) -> None:
    name = world.hand_on()

    new_arn = execution_arn(MACHINE, name)
    assert name == NEW
    assert world.executions.statuses[new_arn] is RunStatus.RUNNING
    started = json.loads(world.executions.inputs[new_arn])
    assert started == {
        "event": {"type": "invoice.sent"},
        "steps": STEPS,
        "passes": PASSES,
        "resume": "remind",
    }
    copied = world.subjects.get(NEW)
    assert copied is not None
    assert (copied.contact_id, copied.journey, copied.data) == ("ana", "reminders", {"n": 1})
    assert world.run(NEW).continues == OLD
    assert world.run(NEW).status is RunStatus.RUNNING
    assert world.run(NEW).idempotency_key == "invoice-1"
    assert (world.run(OLD).status, world.run(OLD).continued_as) == (RunStatus.SUCCEEDED, NEW)
    assert world.continued() == [
        {"journey": "reminders", "execution": OLD, "continued_as": NEW, "at": "remind"}
    ]
    assert world.counted == ["JourneysContinued"]


def test_r_rel_1_a_retried_hand_over_starts_nothing_more_and_records_it_once(world: World) -> None:
    world.hand_on()

    again = world.hand_on()

    assert again == NEW
    assert len(world.executions.statuses) == 2
    assert len(world.runs.of_contact("ana")) == 2
    assert len(world.continued()) == 1


def test_r_rel_1_an_exit_while_the_run_is_handed_on_stops_the_new_execution(world: World) -> None:
    # given the exit_on event stopped the old run just before the hand-over read it again
    real_add = world.runs.add

    def add_then_exit(run: Run) -> bool:
        added = real_add(run)
        old = world.run(OLD)
        world.runs.replace(old.model_copy(update={"status": RunStatus.ABORTED, "exited_on": "invoice.paid"}))
        return added

    world.runs.add = add_then_exit  # type: ignore[method-assign]

    world.hand_on()

    (stopped,) = world.executions.stopped
    assert stopped[0] == execution_arn(MACHINE, NEW)
    assert stopped[1] == EXITED_ERROR
    assert world.run(OLD).status is RunStatus.ABORTED  # the exit's record stands
    assert world.continued() == []


def test_r_rel_1_an_erasure_while_the_run_is_handed_on_leaves_nothing_of_the_contact(world: World) -> None:
    # given an erasure that read the contact's runs and subjects before the new ones were
    # written, and deletes what it read while the new execution starts
    real_start = world.executions.start

    def start_then_erase(state_machine_arn: str, name: str, input_json: str) -> str:
        arn = real_start(state_machine_arn, name, input_json)
        del world.subjects.subjects[OLD]
        world.runs._runs = {key: run for key, run in world.runs._runs.items() if run.execution_name != OLD}
        return arn

    world.executions.start = start_then_erase  # type: ignore[method-assign]

    world.hand_on()

    assert world.executions.statuses[execution_arn(MACHINE, NEW)] is RunStatus.ABORTED
    assert world.subjects.of_contact("ana") == []
    assert world.runs.of_contact("ana") == []
