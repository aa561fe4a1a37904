"""The tasks of a `handoff` step.

- `handoff` runs inside the callback task (`lambda:invoke.waitForTaskToken`, TimeoutSeconds =
  the SLA, R-REL-3): it creates the task (queue, text, due time, the task token), tells the
  queue and returns at once; the execution resumes when `POST /v1/tasks/{id}/complete` sends
  the step result with SendTaskSuccess. With `"escalated": true` it is the escalation: the task
  goes to `escalate_to`, with the timed-out task attached (`escalated_from`).
- `handoff_timeout` is the timeout path (Catch States.Timeout): it marks the task expired,
  records `handoff.timed_out` and answers `{"outcome": "timed_out", "handoff_outcome":
  "timed_out", ...}` for `$.steps.<id>`. When nothing follows (on_timeout end, or the
  escalation timed out too) it records `journey.ended` with outcome `handoff_timed_out`.
Queue, SLA and on_timeout come from the catalog's step, not from the payload.
"""

from __future__ import annotations

from typing import Any

from baton.clock import to_iso
from baton.contacts.exceptions import ContactNotFound
from baton.handoffs.exceptions import QueueNotifyFailed, TaskNotFound
from baton.handoffs.models import TIMED_OUT, HandoffResult, task_id_of
from baton.handoffs.service import HandoffService
from baton.journeys.durations import parse_duration
from baton.journeys.models import Journey, Step
from baton.runner.context import RunnerContext
from baton.runner.exceptions import InvalidStep, ProviderUnavailable, StepNotFound
from baton.runner.models import StepRequest, dump
from baton.triggers.models import RunStatus

JOURNEY_ENDED = "journey.ended"
HANDOFF_TIMED_OUT_OUTCOME = "handoff_timed_out"  # the journey's outcome when nobody took the task
METRIC_HANDOFF_TIMED_OUT = "HandoffTimedOut"


def _handoff_step(context: RunnerContext, request: StepRequest) -> tuple[Journey, Step]:
    journey = context.catalog().journeys.get(request.journey)
    if journey is None or request.step is None:
        raise StepNotFound(f"no journey {request.journey!r} step {request.step!r} in the catalog")
    try:
        step = journey.step(request.step)
    except KeyError:
        raise StepNotFound(f"journey {request.journey!r} has no step {request.step!r}") from None
    if step.handoff is None:
        raise InvalidStep(f"step {request.step!r} of {request.journey!r} is a {step.kind}, not a handoff")
    return journey, step


def _escalated_from(request: StepRequest, step: Step) -> str | None:
    """The escalation's task carries the first task's id (deterministic, so no state to read)."""
    return task_id_of(request.execution, step.id, None) if request.escalated else None


class HandoffTask:
    def __init__(self, context: RunnerContext, handoffs: HandoffService) -> None:
        self._ctx = context
        self._handoffs = handoffs

    def run(self, request: StepRequest) -> dict[str, Any]:
        journey, step = _handoff_step(self._ctx, request)
        handoff = step.handoff
        assert handoff is not None
        if not request.token:
            raise InvalidStep(f"step {step.id!r} of {request.journey!r}: handoff needs the task token")
        if request.escalated and handoff.escalate_to is None:
            raise InvalidStep(f"step {step.id!r} of {request.journey!r} does not escalate")
        queue = handoff.escalate_to if request.escalated and handoff.escalate_to else handoff.queue
        due_at = self._ctx.clock.now() + parse_duration(handoff.sla)
        try:
            task = self._handoffs.create(
                queue=queue,
                journey=request.journey,
                step=step.id,
                execution=request.execution,
                contact_id=request.contact_id,
                text=self._text(journey, step, request, queue),
                due_at=due_at,
                token=request.token,
                escalated_from=_escalated_from(request, step),
            )
        except QueueNotifyFailed as exc:
            # The task is stored; the retried invocation notifies the queue (R-REL-4).
            raise ProviderUnavailable(str(exc)) from exc
        # Ignored by Step Functions (the task's output is what SendTaskSuccess sends).
        return {"task_id": task.task_id, "queue": task.queue, "due_at": to_iso(task.due_at)}

    def _text(self, journey: Journey, step: Step, request: StepRequest, queue: str) -> str:
        try:
            contact = self._ctx.contacts.get(request.contact_id)
            who = " ".join(p for p in (contact.first_name, contact.last_name) if p) or contact.contact_id
        except ContactNotFound:
            who = request.contact_id
        about = journey.description or f"Journey {journey.journey}"
        escalated = " (escalated: nobody took it in time)" if request.escalated else ""
        return f"{about.rstrip('.')}. Step {step.id}: {queue}, please take over for {who}{escalated}."


class HandoffTimeoutTask:
    def __init__(self, context: RunnerContext, handoffs: HandoffService) -> None:
        self._ctx = context
        self._handoffs = handoffs

    def run(self, request: StepRequest) -> dict[str, Any]:
        _, step = _handoff_step(self._ctx, request)
        handoff = step.handoff
        assert handoff is not None
        task_id = task_id_of(request.execution, step.id, _escalated_from(request, step))
        try:
            result = self._handoffs.timed_out_result(self._handoffs.expire(task_id))
        except TaskNotFound:
            # The task was never stored (or was erased): the step still timed out.
            result = HandoffResult(
                outcome=TIMED_OUT, handoff_outcome=TIMED_OUT, task_id=task_id, escalated=request.escalated
            )
        self._ctx.count(METRIC_HANDOFF_TIMED_OUT)
        if request.escalated or handoff.on_timeout == "end":
            self._ctx.timeline.record(
                request.contact_id,
                JOURNEY_ENDED,
                request.tagged(
                    {
                        "journey": request.journey,
                        "step": step.id,
                        "execution": request.execution,
                        "outcome": HANDOFF_TIMED_OUT_OUTCOME,
                        "task_id": task_id,
                    }
                ),
            )
            self._ctx.mark_run(request, RunStatus.SUCCEEDED)
        return dump(result)
