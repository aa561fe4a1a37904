"""A callback task's wait on the local stack's scheduler (`stepfunctions.await_callback`): it
gives the turn back, an answer wakes it, TimeoutSeconds and HeartbeatSeconds fall due only on
the virtual clock, and a task that timed out is marked so a late answer is refused."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from moto.stepfunctions.parser.asl.eval.callback.callback import (
    CallbackConsumerTimeout,
    CallbackEndpoint,
    CallbackOutcomeSuccess,
    CallbackOutcomeTimedOut,
    HeartbeatEndpoint,
    HeartbeatTimedOut,
)
from moto.stepfunctions.parser.asl.eval.environment import Environment

from infra.local.clock import VirtualClock
from infra.local.scheduler import Scheduler
from infra.local.stepfunctions import await_callback

START = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
KEY = "arn:aws:states:us-east-1:123456789012:execution:m:e"


class FakeEnv:
    """What await_callback reads of an interpreter environment."""

    def __init__(self) -> None:
        self.running = True

    def is_running(self) -> bool:
        return self.running


@dataclass
class WaitingTask:
    """A thread that, holding the turn, waits for a callback as a local execution's task does."""

    scheduler: Scheduler
    endpoint: CallbackEndpoint
    timeout_s: float = 3600
    heartbeat: HeartbeatEndpoint | None = None
    env: FakeEnv = field(default_factory=FakeEnv)
    result: list[Any] = field(default_factory=list)
    thread: threading.Thread = field(init=False)

    def start(self) -> WaitingTask:
        self.scheduler.admit(KEY)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        self.scheduler.settle()
        return self

    def _run(self) -> None:
        try:
            self.scheduler.begin(KEY)
            env = cast(Environment, self.env)
            self.result.append(
                await_callback(self.scheduler, KEY, env, self.timeout_s, self.endpoint, self.heartbeat)
            )
        finally:
            self.scheduler.finish(KEY)

    def outcome(self) -> Any:
        # The thread records the outcome before it gives the turn back, and the settle (or
        # advance) that woke it returns only then: what is left of the thread ends at once.
        assert self.result, "the task is still waiting"
        self.thread.join()
        return self.result[0]


@pytest.fixture
def scheduler() -> Scheduler:
    return Scheduler(VirtualClock(START))


def test_a_waiting_task_gives_the_turn_back_and_is_listed_with_its_due_time(scheduler: Scheduler) -> None:
    task = WaitingTask(scheduler, CallbackEndpoint("t-1")).start()

    assert [(s.key, s.due) for s in scheduler.sleepers()] == [(KEY, START + HOUR)]
    assert task.thread.is_alive()
    task.env.running = False
    scheduler.recheck(KEY)
    scheduler.settle()
    task.outcome()


def test_an_answer_wakes_the_task_with_its_outcome_without_moving_the_clock(scheduler: Scheduler) -> None:
    endpoint = CallbackEndpoint("t-2")
    task = WaitingTask(scheduler, endpoint).start()

    endpoint.notify(CallbackOutcomeSuccess(callback_id="t-2", output='{"ok": true}'))
    scheduler.recheck(KEY)
    scheduler.settle()

    outcome = task.outcome()
    assert isinstance(outcome, CallbackOutcomeSuccess)
    assert outcome.output == '{"ok": true}'
    assert scheduler.clock.now() == START
    assert scheduler.sleepers() == []


def test_an_answer_given_before_the_wait_is_taken_at_once(scheduler: Scheduler) -> None:
    endpoint = CallbackEndpoint("t-3")
    endpoint.notify(CallbackOutcomeSuccess(callback_id="t-3", output="{}"))

    task = WaitingTask(scheduler, endpoint).start()

    assert isinstance(task.outcome(), CallbackOutcomeSuccess)


def test_the_timeout_falls_due_only_when_the_clock_reaches_it(scheduler: Scheduler) -> None:
    endpoint = CallbackEndpoint("t-4")
    task = WaitingTask(scheduler, endpoint).start()

    scheduler.advance_to(START + HOUR - timedelta(seconds=1))
    assert task.thread.is_alive()
    scheduler.advance_to(START + HOUR)

    assert isinstance(task.outcome(), CallbackOutcomeTimedOut)
    assert isinstance(endpoint.consumer_error, CallbackConsumerTimeout)  # a late answer: TaskTimedOut


def test_a_heartbeat_moves_the_due_time_and_a_missed_one_times_the_task_out(scheduler: Scheduler) -> None:
    endpoint = CallbackEndpoint("t-5")
    heartbeat = endpoint.setup_heartbeat_endpoint(heartbeat_seconds=600)
    task = WaitingTask(scheduler, endpoint, heartbeat=heartbeat).start()
    assert [s.due for s in scheduler.sleepers()] == [START + timedelta(minutes=10)]

    scheduler.advance_to(START + timedelta(minutes=5))
    endpoint.notify_heartbeat()
    scheduler.recheck(KEY)
    scheduler.settle()
    assert [s.due for s in scheduler.sleepers()] == [START + timedelta(minutes=15)]
    scheduler.advance_to(START + timedelta(minutes=15))

    assert isinstance(task.outcome(), HeartbeatTimedOut)


def test_the_timeout_wins_over_a_later_heartbeat_due_time(scheduler: Scheduler) -> None:
    endpoint = CallbackEndpoint("t-6")
    heartbeat = endpoint.setup_heartbeat_endpoint(heartbeat_seconds=600)
    task = WaitingTask(scheduler, endpoint, timeout_s=900, heartbeat=heartbeat).start()

    scheduler.advance_to(START + timedelta(minutes=9))
    endpoint.notify_heartbeat()
    scheduler.recheck(KEY)
    scheduler.settle()
    assert [s.due for s in scheduler.sleepers()] == [START + timedelta(minutes=15)]
    scheduler.advance_to(START + timedelta(minutes=15))

    assert isinstance(task.outcome(), CallbackOutcomeTimedOut)
