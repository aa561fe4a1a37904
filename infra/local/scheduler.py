"""Turn-taking for a local stack's state-machine executions, so virtual time is deterministic.

Each execution runs on its own thread (moto's), but only when it holds the turn: one execution
at a time, in an order that depends only on what happened, never on thread timing.

- A started execution is queued (READY) and waits for its turn before its first state.
- An execution that reaches a Wait state or a Retry backoff gives the turn back and sleeps
  (WAITING) until the virtual clock reaches its due time. A callback task (`.waitForTaskToken`)
  sleeps the same way until its TimeoutSeconds (or HeartbeatSeconds) due time; an answer to
  its token wakes it early through `recheck` (its `still_running` turns false), as a stop does.
- `settle()` hands the turn to each queued execution in arrival order, and returns when none is
  queued or running: every execution is asleep on a future time, or finished.
- `advance_to(t)` settles, then repeatedly takes the sleeper with the earliest due time (ties:
  the one that fell asleep first) that is due by `t`, moves the clock to its due time, wakes it
  and settles; at last the clock moves to `t`. So a Lambda that runs after a 1-day wait sees
  "now" = the wait's end, and three days of a journey run in one call, in order.
- A sleeper whose execution is stopped (StopExecution), or whose callback task is answered, is
  queued at once, so it can go on (or end).
- A unit may have units of its own: a Distributed Map's execution admits its items (each a
  unit keyed by its child execution ARN), gives the turn back with `block`, and the last item
  to end queues it again with `unblock`. A blocked unit is not a sleeper: the clock never wakes
  it. The settle timeout counts from the latest hand-over, so a settle may take as many turns
  as a map has items; only one turn that never ends trips it.
"""

from __future__ import annotations

import enum
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from infra.local.clock import VirtualClock
from infra.local.exceptions import LocalStackError

# Long enough for a cold start of every handler in a chain of steps; short enough that a stuck
# execution (a handler that never returns) surfaces as an error instead of a hung request.
DEFAULT_SETTLE_TIMEOUT_S: Final = 120.0


class SettleTimeout(LocalStackError):
    """Executions kept running past the settle timeout (real time)."""


class UnsupportedConcurrency(LocalStackError):
    """Two threads of one unit waited at once (two branches of a Parallel or an inline Map;
    a Distributed Map's items are units of their own)."""


class _State(enum.Enum):
    READY = "ready"  # queued for the turn
    RUNNING = "running"  # holds the turn
    WAITING = "waiting"  # asleep until `due`
    BLOCKED = "blocked"  # waits for its own units (a Distributed Map's iterations) to end


@dataclass(eq=False)
class _Unit:
    key: str
    state: _State = _State.READY
    due: datetime | None = None
    order: int = 0  # when it fell asleep: breaks ties between equal due times
    still_running: Callable[[], bool] = field(default=lambda: True)


@dataclass(frozen=True)
class Sleeper:
    key: str  # the execution ARN
    due: datetime


class Scheduler:
    def __init__(self, clock: VirtualClock, *, settle_timeout_s: float = DEFAULT_SETTLE_TIMEOUT_S) -> None:
        self.clock = clock
        self._settle_timeout_s = settle_timeout_s
        self._cond = threading.Condition()
        self._units: dict[str, _Unit] = {}
        self._ready: deque[_Unit] = deque()
        self._running: _Unit | None = None
        self._order = itertools.count()
        self._advancing = threading.Lock()

    # Called on behalf of executions ------------------------------------------------------

    def admit(self, key: str) -> None:
        """A new execution: it runs when its turn comes (the caller's thread returns at once)."""
        with self._cond:
            if key in self._units:
                return
            unit = _Unit(key)
            self._units[key] = unit
            self._ready.append(unit)
            self._cond.notify_all()

    def begin(self, key: str) -> None:
        """On the execution's own thread, before its first state: wait for the turn."""
        with self._cond:
            unit = self._units.get(key)
            while unit is not None and unit.state is not _State.RUNNING:
                self._cond.wait()
                unit = self._units.get(key)

    def sleep_until(self, key: str, due: datetime, still_running: Callable[[], bool]) -> None:
        """On the execution's thread: give the turn back until the clock reaches `due` (or the
        execution stops). Returns at once when `due` is not in the future."""
        with self._cond:
            unit = self._units.get(key)
            if unit is None or due <= self.clock.now() or not still_running():
                return
            if unit.state is not _State.RUNNING:
                raise UnsupportedConcurrency(
                    f"{key}: two branches of one execution waited at once; the local stack runs "
                    "Wait and Retry inside Parallel or inline Map states only one branch at a time"
                )
            unit.state, unit.due, unit.order = _State.WAITING, due, next(self._order)
            unit.still_running = still_running
            self._release(unit)
            while unit.state is not _State.RUNNING:
                self._cond.wait()

    def block(self, key: str) -> None:
        """On the unit's thread: give the turn back until `unblock(key)` queues it again (a
        Distributed Map waits so for its iterations, each a unit of its own). Not a sleeper:
        no clock move wakes it."""
        with self._cond:
            unit = self._units.get(key)
            if unit is None:
                return
            if unit.state is not _State.RUNNING:
                raise UnsupportedConcurrency(f"{key}: blocked while it did not hold the turn")
            unit.state, unit.due = _State.BLOCKED, None
            self._release(unit)
            while unit.state is not _State.RUNNING:
                self._cond.wait()

    def unblock(self, key: str) -> None:
        """Queue a blocked unit: it goes on when its turn comes."""
        with self._cond:
            unit = self._units.get(key)
            if unit is not None and unit.state is _State.BLOCKED:
                self._queue(unit)

    def finish(self, key: str) -> None:
        """The execution's thread is done (whatever the outcome)."""
        with self._cond:
            unit = self._units.pop(key, None)
            if unit is None:
                return
            if unit in self._ready:
                self._ready.remove(unit)
            self._release(unit)

    def recheck(self, key: str) -> None:
        """The execution's program state changed: if it sleeps but no longer runs (stopped),
        queue it so it can end."""
        with self._cond:
            unit = self._units.get(key)
            if unit is not None and unit.state is _State.WAITING and not unit.still_running():
                self._queue(unit)

    # Called by the stack -----------------------------------------------------------------

    def settle(self) -> None:
        """Run queued executions one at a time until none is queued or running. The timeout
        counts from the latest hand-over: one turn may not take longer, however many turns
        a settle takes (a Distributed Map's thousand iterations are a thousand turns)."""
        deadline = time.monotonic() + self._settle_timeout_s
        with self._cond:
            while True:
                if self._running is None:
                    if not self._ready:
                        return
                    unit = self._ready.popleft()
                    unit.state = _State.RUNNING
                    self._running = unit
                    deadline = time.monotonic() + self._settle_timeout_s
                    self._cond.notify_all()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    running = self._running.key if self._running else "none"
                    raise SettleTimeout(
                        f"an execution kept its turn for {self._settle_timeout_s:.0f} s "
                        f"(now: {running}; queued: {len(self._ready)})"
                    )
                self._cond.wait(remaining)

    def advance_to(self, target: datetime) -> datetime:
        """Move the clock to `target`, running everything that falls due on the way, in order."""
        with self._advancing:
            self.settle()
            while True:
                with self._cond:
                    asleep = self._asleep()
                    if not asleep or asleep[0][0] > target:
                        break
                    due, _, unit = asleep[0]
                    self.clock.move_to(due)
                    self._queue(unit)
                self.settle()
            return self.clock.move_to(target)

    def sleepers(self) -> list[Sleeper]:
        """Executions asleep, soonest first."""
        with self._cond:
            return [Sleeper(unit.key, due) for due, _, unit in self._asleep()]

    # Internals (hold self._cond) -----------------------------------------------------------

    def _asleep(self) -> list[tuple[datetime, int, _Unit]]:
        """(due, order, unit) of every sleeper, in the order they wake."""
        asleep = [
            (u.due, u.order, u)
            for u in self._units.values()
            if u.state is _State.WAITING and u.due is not None
        ]
        return sorted(asleep, key=lambda item: (item[0], item[1]))

    def _release(self, unit: _Unit) -> None:
        if self._running is unit:
            self._running = None
        self._cond.notify_all()

    def _queue(self, unit: _Unit) -> None:
        unit.state, unit.due = _State.READY, None
        self._ready.append(unit)
        self._cond.notify_all()
