"""Hand-off tasks with in-memory repositories: create, list a queue, complete, expire."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from baton.clock import FixedClock
from baton.handoffs.callbacks import CallbackClosed
from baton.handoffs.exceptions import QueueNotifyFailed, TaskAlreadyCompleted, TaskExpired, TaskNotFound
from baton.handoffs.models import Task, TaskStatus, task_id_of
from baton.handoffs.repository import InMemoryTaskRepository
from baton.handoffs.service import HandoffService

NOW = datetime(2026, 5, 4, 15, tzinfo=UTC)
EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:Baton-support:support-abc"


@dataclass
class Notifier:
    notified: list[Task] = field(default_factory=list)
    fail: bool = False

    def notify(self, task: Task) -> Mapping[str, Any]:
        if self.fail:
            raise QueueNotifyFailed("down")
        self.notified.append(task)
        return {"topic": True, "email": True}


@dataclass
class Callbacks:
    sent: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    closed: bool = False

    def succeed(self, token: str, output: Mapping[str, Any]) -> None:
        if self.closed:
            raise CallbackClosed("TaskTimedOut")
        self.sent.append((token, dict(output)))


@dataclass
class Timeline:
    events: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    def record(self, contact_id: str, kind: str, detail: Mapping[str, object] | None = None) -> object:
        self.events.append((contact_id, kind, dict(detail or {})))
        return None

    def kinds(self) -> list[str]:
        return [kind for _, kind, _ in self.events]


@dataclass
class World:
    clock: FixedClock
    tasks: InMemoryTaskRepository
    notifier: Notifier
    callbacks: Callbacks
    timeline: Timeline
    service: HandoffService

    def create(self, queue: str = "support-agents", step: str = "agent-reply", **extra: Any) -> Task:
        arguments: dict[str, Any] = {
            "queue": queue,
            "journey": "support",
            "step": step,
            "execution": EXECUTION,
            "contact_id": "c-1",
            "text": "Follow up with Ana",
            "due_at": self.clock.now() + timedelta(hours=24),
            "token": "token-1",
        } | extra
        return self.service.create(**arguments)


@pytest.fixture
def world() -> World:
    clock = FixedClock(NOW)
    tasks = InMemoryTaskRepository()
    notifier, callbacks, timeline = Notifier(), Callbacks(), Timeline()
    return World(
        clock,
        tasks,
        notifier,
        callbacks,
        timeline,
        HandoffService(tasks, notifier, callbacks, timeline, clock),
    )


def test_a_new_task_is_stored_open_notified_once_and_on_the_timeline(world: World) -> None:
    task = world.create()

    assert task.status == TaskStatus.OPEN
    assert task.task_id == task_id_of(EXECUTION, "agent-reply", None)
    assert [t.task_id for t in world.notifier.notified] == [task.task_id]
    assert world.timeline.kinds() == ["handoff.created", "handoff.notified"]


def test_a_retried_task_invocation_creates_nothing_new_and_keeps_the_newest_token(world: World) -> None:
    first = world.create()
    again = world.create(token="token-2")

    assert again.task_id == first.task_id
    assert world.tasks.tasks[first.task_id].token == "token-2"
    assert len(world.notifier.notified) == 1
    assert world.timeline.kinds() == ["handoff.created", "handoff.notified"]


def test_a_queue_that_cannot_be_reached_is_notified_when_the_task_is_retried(world: World) -> None:
    world.notifier.fail = True
    with pytest.raises(QueueNotifyFailed):
        world.create()
    world.notifier.fail = False

    world.create()

    assert len(world.notifier.notified) == 1
    assert world.timeline.kinds() == ["handoff.created", "handoff.notified"]


def test_list_open_shows_only_the_queues_open_tasks_oldest_due_first(world: World) -> None:
    late = world.create(step="later", due_at=NOW + timedelta(hours=48))
    soon = world.create(step="sooner", due_at=NOW + timedelta(hours=2))
    world.create(queue="account-managers", step="other")
    done = world.create(step="done")
    world.service.complete(done.task_id, "resolved")

    listed = world.service.list_open("support-agents")

    assert [task.task_id for task in listed] == [soon.task_id, late.task_id]


def test_completing_passes_the_baton_with_the_step_result_and_records_it(world: World) -> None:
    task = world.create()

    completed = world.service.complete(task.task_id, "resolved", "Called her back")

    assert completed.status == TaskStatus.COMPLETED
    assert world.callbacks.sent == [
        (
            "token-1",
            {
                "outcome": "completed",
                "handoff_outcome": "resolved",
                "task_id": task.task_id,
                "escalated": False,
            },
        )
    ]
    assert world.timeline.events[-1][1] == "handoff.completed"
    assert world.timeline.events[-1][2]["note"] == "Called her back"


def test_completing_twice_is_a_409_and_the_journey_hears_once(world: World) -> None:
    task = world.create()
    world.service.complete(task.task_id, "resolved")

    with pytest.raises(TaskAlreadyCompleted) as raised:
        world.service.complete(task.task_id, "resolved")

    assert raised.value.code == "task_already_completed"
    assert len(world.callbacks.sent) == 1


def test_completing_after_the_sla_is_a_409_that_says_it_expired(world: World) -> None:
    task = world.create()
    world.clock.set(NOW + timedelta(hours=24))

    with pytest.raises(TaskExpired) as raised:
        world.service.complete(task.task_id, "resolved")

    assert raised.value.code == "task_expired"
    assert "expired" in str(raised.value)
    assert world.callbacks.sent == []
    assert world.tasks.tasks[task.task_id].status == TaskStatus.EXPIRED


def test_completing_a_task_the_journey_timed_out_is_a_409_task_expired(world: World) -> None:
    task = world.create()
    world.service.expire(task.task_id)

    with pytest.raises(TaskExpired):
        world.service.complete(task.task_id, "resolved")

    assert world.callbacks.sent == []
    assert world.timeline.kinds().count("handoff.timed_out") == 1


def test_a_callback_the_execution_already_closed_expires_the_task(world: World) -> None:
    task = world.create()
    world.callbacks.closed = True

    with pytest.raises(TaskExpired):
        world.service.complete(task.task_id, "resolved")

    assert world.tasks.tasks[task.task_id].status == TaskStatus.EXPIRED


def test_expire_twice_records_the_timeout_once(world: World) -> None:
    task = world.create()

    world.service.expire(task.task_id)
    world.service.expire(task.task_id)

    assert world.timeline.kinds().count("handoff.timed_out") == 1
    assert world.service.timed_out_result(world.service.get(task.task_id)).handoff_outcome == "timed_out"


def test_an_escalated_task_attaches_the_original_and_is_on_the_timeline(world: World) -> None:
    original = world.create()
    world.service.expire(original.task_id)

    escalated = world.create(queue="support-leads", escalated_from=original.task_id, token="token-2")
    world.service.complete(escalated.task_id, "resolved")

    assert escalated.escalated_from == original.task_id
    assert escalated.task_id != original.task_id
    assert "handoff.escalated" in world.timeline.kinds()
    assert world.callbacks.sent[-1] == (
        "token-2",
        {
            "outcome": "completed",
            "handoff_outcome": "resolved",
            "task_id": escalated.task_id,
            "escalated": True,
        },
    )


def test_an_unknown_task_is_not_found(world: World) -> None:
    with pytest.raises(TaskNotFound):
        world.service.complete("task-nope", "resolved")
