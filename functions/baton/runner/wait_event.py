"""The tasks of `wait: {event, timeout}`.

- `await_event` runs inside the callback task (`lambda:invoke.waitForTaskToken`, TimeoutSeconds
  = the step's timeout, R-REL-3): it stores the task token as a waiter and returns at once; the
  execution resumes when `EventService.record` sends `{"event_received": true, "event": {...}}`
  for the token (`baton.waits.service`).
- `wait_timed_out` is the timeout path (Catch States.Timeout): it removes the waiter, records
  `wait.timed_out` and answers `{"event_received": false, "event": null}` for `$.steps.<id>`.
The event type and timeout come from the catalog's step, not from the payload.
"""

from __future__ import annotations

from typing import Any

from baton.journeys.durations import parse_duration
from baton.journeys.models import Step
from baton.runner.context import RunnerContext
from baton.runner.exceptions import InvalidStep, StepNotFound
from baton.runner.models import StepRequest
from baton.waits.models import NOT_RECEIVED
from baton.waits.service import WaitService


def _wait_step(context: RunnerContext, request: StepRequest) -> Step:
    journey = context.catalog().journeys.get(request.journey)
    if journey is None or request.step is None:
        raise StepNotFound(f"no journey {request.journey!r} step {request.step!r} in the catalog")
    try:
        step = journey.step(request.step)
    except KeyError:
        raise StepNotFound(f"journey {request.journey!r} has no step {request.step!r}") from None
    if step.wait is None or step.wait.event is None or step.wait.timeout is None:
        raise InvalidStep(f"step {request.step!r} of {request.journey!r} is not a wait for an event")
    return step


class AwaitEventTask:
    def __init__(self, context: RunnerContext, waits: WaitService) -> None:
        self._ctx = context
        self._waits = waits

    def run(self, request: StepRequest) -> dict[str, Any]:
        step = _wait_step(self._ctx, request)
        assert step.wait is not None
        assert step.wait.event is not None
        assert step.wait.timeout is not None
        if not request.token:
            raise InvalidStep(f"step {step.id!r} of {request.journey!r}: await_event needs the task token")
        waiter = self._waits.start(
            contact_id=request.contact_id,
            event_type=step.wait.event,
            journey=request.journey,
            execution=request.execution,
            execution_name=request.execution_name,
            step=step.id,
            token=request.token,
            timeout=parse_duration(step.wait.timeout),
        )
        # Ignored by Step Functions (the task's output is what SendTaskSuccess sends).
        return {"waiting_for": waiter.event_type, "timeout_at": waiter.timeout_at.isoformat()}


class WaitTimedOutTask:
    def __init__(self, context: RunnerContext, waits: WaitService) -> None:
        self._ctx = context
        self._waits = waits

    def run(self, request: StepRequest) -> dict[str, Any]:
        step = _wait_step(self._ctx, request)
        assert step.wait is not None
        assert step.wait.event is not None
        self._waits.timed_out(
            contact_id=request.contact_id,
            event_type=step.wait.event,
            journey=request.journey,
            execution_name=request.execution_name,
            step=step.id,
        )
        return dict(NOT_RECEIVED)
