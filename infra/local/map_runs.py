"""A Distributed Map's run on the local stack's scheduler: each item a child execution of its own,
one at a time, in an order that depends only on what happened.

In AWS a Distributed Map starts one child execution per item (at most MaxConcurrency at once)
and fails when more of them fail than it tolerates. moto 5.2.5 runs the items on a pool of
threads at once (their order is the threads'), keeps every item's history events in memory until
the map ends, and never fails the map for failed items. Here instead:

- The map's own execution gives the turn back (`Scheduler.block`) while its items run, and is
  queued again when the last one ends.
- Items are admitted in index order, at most MaxConcurrency (0: all) in flight; each is a
  scheduler unit keyed by its child execution ARN (`$$.Execution.Id` inside the item is that
  ARN, `execution:<machine>/<label>:<map run id>-<index>`), queued, and run when its turn comes.
  An item that ends admits the next one.
- A Wait or Retry backoff inside an item sleeps on the virtual clock as that item's own sleeper:
  several items of one map may wait at once, and wake in due-time order.
- Each item's history goes to an event list of its own, dropped when the item ends (AWS keeps
  it in the child execution's history), so memory does not grow with the items but for their
  outputs.
- More failed items than ToleratedFailureCount (default 0) fail the map with
  `States.ExceedToleratedFailureThreshold` (Retry and Catch apply), once the items in flight
  are stopped; no further item starts.
- A stopped execution stops its items; they end at their next state and none starts after.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from moto.stepfunctions.parser.api import ExecutionFailedEventDetails, HistoryEventType
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.distributed_iteration_component import (  # noqa: E501
    DistributedIterationComponent,
    DistributedIterationComponentEvalInput,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.job import Job, JobPool
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager
from moto.stepfunctions.parser.asl.eval.program_state import ProgramEnded, ProgramStopped
from moto.stepfunctions.parser.utils import TMP_THREADS

from infra.local.scheduler import Scheduler

# The error a map fails with when more items failed than it tolerates (AWS's own).
EXCEEDED: Final = StatesErrorName(typ=StatesErrorNameType.StatesExceedToleratedFailureThreshold)
_STOP_CAUSE: Final = "The map run failed: its other items were stopped."


@dataclass
class _Run:
    """What the items have done so far (changed only by the unit holding the turn)."""

    outputs: dict[int, Any] = field(default_factory=dict)
    failed: int = 0
    next_index: int = 0
    in_flight: dict[int, Environment] = field(default_factory=dict)
    exceeded: bool = False


class MapRun:
    """One evaluation of a Distributed Map state's items, on `scheduler`, for the unit `key`."""

    def __init__(
        self,
        component: DistributedIterationComponent,
        env: Environment,
        eval_input: DistributedIterationComponentEvalInput,
        items: list[Any],
        *,
        scheduler: Scheduler,
        key: str,
        register: Callable[[str], None],
        forget: Callable[[str], None],
    ) -> None:
        self._env = env
        self._items = items
        self._scheduler = scheduler
        self._key = key
        self._register = register
        self._forget = forget
        self._program = component._get_iteration_program()
        record = eval_input.map_run_record
        self._limit = record.max_concurrency or len(items)
        self._tolerated = int(eval_input.tolerated_failure_count or 0)
        self._child_prefix = record.map_run_arn.replace(":mapRun:", ":execution:", 1)
        # moto's worker evaluates an item (ItemSelector, counters, the item program) on a frame
        # it is given; its job pool is only a place to hand jobs from, unused here.
        self._worker = component._create_worker(
            env=env, eval_input=eval_input, job_pool=JobPool(job_program=self._program, job_inputs=[])
        )
        self._run = _Run()
        self._lock = threading.Lock()

    def evaluate(self) -> list[Any]:
        """On the map's thread, holding the turn: run every item, return their outputs in index
        order; raises FailureEventException when more items failed than tolerated."""
        if self._items:
            with self._lock:
                for _ in range(min(self._limit, len(self._items))):
                    self._admit_next()
            self._scheduler.block(self._key)
        if self._run.exceeded:
            raise FailureEventException(
                failure_event=FailureEvent(
                    env=self._env,
                    error_name=EXCEEDED,
                    event_type=HistoryEventType.MapRunFailed,
                    event_details=EventDetails(  # type: ignore[typeddict-item]
                        executionFailedEventDetails=ExecutionFailedEventDetails(
                            error=EXCEEDED.error_name,
                            cause=(
                                f"{self._run.failed} of {len(self._items)} items failed;"
                                f" the map tolerates {self._tolerated}."
                            ),
                        )
                    ),
                )
            )
        return [self._run.outputs.get(index) for index in range(len(self._items))]

    # Internals ----------------------------------------------------------------------------

    def _admit_next(self) -> None:
        """Queue the next item as a unit of its own (holding the turn and the lock)."""
        index = self._run.next_index
        self._run.next_index += 1
        child = f"{self._child_prefix}-{index}"
        frame = self._env.open_inner_frame()
        # The item's own execution context and history, as a child execution has.
        execution = dict(frame.states.context_object.context_object_data["Execution"])
        execution["Id"] = child
        execution["Name"] = child.rsplit(":", 1)[-1]
        frame.states.context_object.context_object_data["Execution"] = execution  # type: ignore[typeddict-item]
        frame.event_manager = EventManager()
        self._run.in_flight[index] = frame
        self._register(child)
        self._scheduler.admit(child)
        thread = threading.Thread(
            target=self._item, args=(index, child, frame), name=f"map-item-{index}", daemon=True
        )
        thread.start()

    def _item(self, index: int, child: str, frame: Environment) -> None:
        self._scheduler.begin(child)
        failed = True
        try:
            if frame.is_running():
                job = Job(job_index=index, job_program=self._program, job_input=self._items[index])
                self._worker._eval_job(env=frame, job=job)
                # Ended: it reached its end. Stopped: its execution (or the failed map) stopped it.
                # Anything else failed, also an ItemSelector that could not be evaluated.
                failed = not isinstance(frame.program_state(), ProgramEnded | ProgramStopped)
                with self._lock:
                    if not failed:
                        self._run.outputs[index] = job.job_output
            else:
                failed = False  # stopped before it began: it never ran
        finally:
            self._env.delete_frame(frame)
            with self._lock:
                self._ended(index, failed)
            self._forget(child)
            self._scheduler.finish(child)

    def _ended(self, index: int, failed: bool) -> None:
        """An item ended (holding its turn and the lock): count it, admit the next, or let the
        map go on when none is left in flight."""
        run = self._run
        run.in_flight.pop(index, None)
        if failed and not run.exceeded:
            run.failed += 1
            if run.failed > self._tolerated:
                run.exceeded = True
                for frame in list(run.in_flight.values()):
                    frame.set_stop(
                        stop_date=self._scheduler.clock.now(), cause=_STOP_CAUSE, error=EXCEEDED.error_name
                    )
        # Finished threads' objects would pile up in moto's list, one set per item.
        TMP_THREADS[:] = [thread for thread in TMP_THREADS if thread.is_alive()]
        if run.next_index < len(self._items) and not run.exceeded and self._env.is_running():
            self._admit_next()
        elif not run.in_flight:
            self._scheduler.unblock(self._key)
