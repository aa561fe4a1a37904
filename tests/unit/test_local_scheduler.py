"""Turn-taking for local executions: one runs at a time, in arrival order; sleepers wake in
due-time order with the virtual clock at their due time; nothing moves on real time."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from infra.local.clock import VirtualClock
from infra.local.scheduler import Scheduler, SettleTimeout

START = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@dataclass
class FakeExecution:
    """A thread that runs steps ("run", label) and sleeps ("sleep", timedelta), as an execution
    of moto's interpreter does under the scheduler."""

    scheduler: Scheduler
    key: str
    plan: list[tuple[str, object]]
    log: list[tuple[str, datetime]]
    stopped: bool = False
    pause_s: float = 0.005
    thread: threading.Thread = field(init=False)

    def start(self) -> FakeExecution:
        self.scheduler.admit(self.key)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def _run(self) -> None:
        clock = self.scheduler.clock
        try:
            self.scheduler.begin(self.key)
            for kind, value in self.plan:
                if self.stopped:
                    self.log.append((f"{self.key} stopped", clock.now()))
                    return
                if kind == "run":
                    self.log.append((f"{self.key} {value} begins", clock.now()))
                    time.sleep(self.pause_s)  # invite another thread to interleave, if it could
                    self.log.append((f"{self.key} {value} ends", clock.now()))
                else:
                    assert isinstance(value, timedelta)
                    self.scheduler.sleep_until(self.key, clock.now() + value, lambda: not self.stopped)
        finally:
            self.scheduler.finish(self.key)


@pytest.fixture
def scheduler() -> Scheduler:
    return Scheduler(VirtualClock(START))


@pytest.fixture
def log() -> list[tuple[str, datetime]]:
    return []


def _labels(log: list[tuple[str, datetime]]) -> list[str]:
    return [label for label, _ in log]


def test_queued_executions_run_one_at_a_time_in_arrival_order(
    scheduler: Scheduler, log: list[tuple[str, datetime]]
) -> None:
    plan: list[tuple[str, object]] = [("run", "first"), ("run", "second")]
    for key in ("a", "b", "c"):
        FakeExecution(scheduler, key, plan, log).start()

    scheduler.settle()

    assert _labels(log) == [
        f"{key} {step} {edge}" for key in "abc" for step in ("first", "second") for edge in ("begins", "ends")
    ]


def test_nothing_runs_before_someone_settles(scheduler: Scheduler, log: list[tuple[str, datetime]]) -> None:
    FakeExecution(scheduler, "a", [("run", "step")], log).start()
    time.sleep(0.05)

    assert log == []
    scheduler.settle()
    assert _labels(log) == ["a step begins", "a step ends"]


def test_sleepers_wake_in_due_order_with_the_clock_at_their_due_time(
    scheduler: Scheduler, log: list[tuple[str, datetime]]
) -> None:
    FakeExecution(scheduler, "late", [("sleep", 2 * HOUR), ("run", "step")], log).start()
    FakeExecution(scheduler, "early", [("sleep", HOUR), ("run", "step")], log).start()
    scheduler.settle()

    now = scheduler.advance_to(START + 3 * HOUR)

    assert [(label, at) for label, at in log if label.endswith("begins")] == [
        ("early step begins", START + HOUR),
        ("late step begins", START + 2 * HOUR),
    ]
    assert now == scheduler.clock.now() == START + 3 * HOUR


def test_equal_due_times_wake_in_the_order_they_fell_asleep(
    scheduler: Scheduler, log: list[tuple[str, datetime]]
) -> None:
    for key in ("x", "y", "z"):
        FakeExecution(scheduler, key, [("sleep", HOUR), ("run", "step")], log).start()
    scheduler.settle()

    scheduler.advance_to(START + HOUR)

    assert [label for label in _labels(log) if label.endswith("begins")] == [
        "x step begins",
        "y step begins",
        "z step begins",
    ]


def test_an_advance_short_of_the_due_time_runs_nothing(
    scheduler: Scheduler, log: list[tuple[str, datetime]]
) -> None:
    FakeExecution(scheduler, "a", [("sleep", timedelta(days=1)), ("run", "step")], log).start()
    scheduler.settle()

    scheduler.advance_to(START + timedelta(hours=23))

    assert log == []
    assert [(s.key, s.due) for s in scheduler.sleepers()] == [("a", START + timedelta(days=1))]


def test_a_chain_of_waits_inside_one_advance_runs_step_by_step(
    scheduler: Scheduler, log: list[tuple[str, datetime]]
) -> None:
    day = timedelta(days=1)
    plan: list[tuple[str, object]] = [
        ("run", "one"),
        ("sleep", day),
        ("run", "two"),
        ("sleep", day),
        ("run", "three"),
    ]
    FakeExecution(scheduler, "a", plan, log).start()
    scheduler.settle()

    scheduler.advance_to(START + 3 * day)

    assert [(label, at) for label, at in log if label.endswith("begins")] == [
        ("a one begins", START),
        ("a two begins", START + day),
        ("a three begins", START + 2 * day),
    ]
    assert scheduler.sleepers() == []


def test_a_wait_that_is_already_due_does_not_give_up_the_turn(
    scheduler: Scheduler, log: list[tuple[str, datetime]]
) -> None:
    FakeExecution(scheduler, "a", [("sleep", timedelta(0)), ("run", "step")], log).start()

    scheduler.settle()

    assert _labels(log) == ["a step begins", "a step ends"]


def test_a_stopped_sleeper_ends_without_the_clock_moving(
    scheduler: Scheduler, log: list[tuple[str, datetime]]
) -> None:
    execution = FakeExecution(scheduler, "a", [("sleep", timedelta(days=1)), ("run", "step")], log).start()
    scheduler.settle()

    execution.stopped = True
    scheduler.recheck("a")
    scheduler.settle()

    assert _labels(log) == ["a stopped"]
    assert scheduler.clock.now() == START
    assert scheduler.sleepers() == []


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Set at teardown, so a thread held by a test ends."""
    event = threading.Event()
    yield event
    event.set()


def test_an_execution_that_never_gives_back_the_turn_times_out_the_settle(release: threading.Event) -> None:
    scheduler = Scheduler(VirtualClock(START), settle_timeout_s=0.2)

    def run() -> None:
        scheduler.begin("held")
        release.wait(10)
        scheduler.finish("held")

    scheduler.admit("held")
    threading.Thread(target=run, daemon=True).start()

    with pytest.raises(SettleTimeout, match="held"):
        scheduler.settle()


def test_a_blocked_execution_gives_the_turn_to_its_own_units_and_goes_on_after_the_last(
    scheduler: Scheduler, log: list[tuple[str, datetime]]
) -> None:
    # given a map that admits two items and blocks until the last one unblocks it
    items = [
        FakeExecution(scheduler, f"map/{n}", [("run", "item"), ("sleep", HOUR), ("run", "again")], log)
        for n in range(2)
    ]

    def run_map() -> None:
        scheduler.begin("map")
        log.append(("map begins", scheduler.clock.now()))
        for item in items:
            item.start()
        scheduler.block("map")
        log.append(("map goes on", scheduler.clock.now()))
        scheduler.finish("map")

    def unblock_after_the_items() -> None:
        for item in items:
            item.thread.join()
        # the last item's own thread does this in the local stack, holding its turn
        scheduler.unblock("map")

    scheduler.admit("map")
    threading.Thread(target=run_map, daemon=True).start()

    # when settled, the items run to their waits (each a sleeper of its own) and the map waits
    scheduler.settle()
    assert _labels(log) == [
        "map begins",
        "map/0 item begins",
        "map/0 item ends",
        "map/1 item begins",
        "map/1 item ends",
    ]
    assert [s.key for s in scheduler.sleepers()] == ["map/0", "map/1"]  # blocked is not asleep

    # when the clock passes their due time, both go on, then the map
    watcher = threading.Thread(target=unblock_after_the_items, daemon=True)
    watcher.start()
    scheduler.advance_to(START + HOUR)
    watcher.join(5)
    scheduler.settle()
    assert _labels(log)[5:] == [
        "map/0 again begins",
        "map/0 again ends",
        "map/1 again begins",
        "map/1 again ends",
        "map goes on",
    ]
    assert scheduler.sleepers() == []


def test_the_settle_timeout_counts_from_the_latest_hand_over_not_from_the_first(
    log: list[tuple[str, datetime]],
) -> None:
    # given many short turns that together take longer than the timeout
    scheduler = Scheduler(VirtualClock(START), settle_timeout_s=0.2)
    for n in range(8):
        plan: list[tuple[str, object]] = [("run", "slow")] * 3
        FakeExecution(scheduler, f"e{n}", plan, log, pause_s=0.01).start()

    began = time.monotonic()
    scheduler.settle()

    # then every turn ran, though the settle outlasted one timeout
    assert len(log) == 8 * 6
    assert time.monotonic() - began > 0.2
