"""The branch, split, finish and fail tasks: choose the next step, and record how a journey ended."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger

from baton.contacts.exceptions import ContactNotFound
from baton.contacts.models import Contact
from baton.journeys.evaluate import ConditionFacts, evaluate
from baton.journeys.models import END, Journey, Step
from baton.journeys.split import variant_of
from baton.runner.context import RunnerContext
from baton.runner.exceptions import InvalidStep, StepNotFound
from baton.runner.models import BranchResult, EndResult, SplitResult, StepRequest
from baton.triggers.models import RunStatus

logger = Logger(child=True)

JOURNEY_STEP = "journey.step"
JOURNEY_SPLIT = "journey.split"
JOURNEY_COMPLETED = "journey.completed"
JOURNEY_FAILED = "journey.failed"
METRIC_COMPLETED = "JourneyCompleted"
METRIC_ERRORS = "JourneyErrors"  # a task error caught by the state machine (not a failed send)
_MAX_CAUSE = 2000


class BranchTask:
    def __init__(self, context: RunnerContext) -> None:
        self._ctx = context

    def run(self, request: StepRequest) -> BranchResult:
        _, step = _step_of(self._ctx, request, "branch")
        assert step.branch is not None
        contact = _contact(self._ctx, request.contact_id)
        if contact is None:
            return BranchResult(next=END)  # erased while the journey ran: nothing left to do
        # The contact as read now (strongly consistent), the earlier steps as the execution carries them.
        facts = ConditionFacts(contact=contact.model_dump(mode="json"), steps=request.steps)
        result = BranchResult(next=step.branch.default)
        for index, case in enumerate(step.branch.cases):
            if evaluate(case.when, facts):
                result = BranchResult(next=case.next, case=index)
                break
        self._ctx.timeline.record(
            request.contact_id,
            JOURNEY_STEP,
            request.tagged(
                {
                    "journey": request.journey,
                    "step": request.step,
                    "execution": request.execution,
                    "next": result.next,
                    "case": result.case,
                }
            ),
        )
        return result


class SplitTask:
    """The contact's variant (`baton.journeys.split`: the same on every entry, retry and redrive),
    on the timeline (`journey.split`) and on the run, where a goal's conversion reads it."""

    def __init__(self, context: RunnerContext) -> None:
        self._ctx = context

    def run(self, request: StepRequest) -> SplitResult:
        journey, step = _step_of(self._ctx, request, "split")
        assert step.split is not None
        if _contact(self._ctx, request.contact_id) is None:
            return SplitResult(variant=None, next=END)  # erased while the journey ran
        variant = variant_of(journey.journey, request.contact_id, step.split.variants)
        result = SplitResult(variant=variant.name, next=variant.next)
        detail = {
            "journey": request.journey,
            "step": request.step,
            "execution": request.execution,
            "variant": result.variant,
            "next": result.next,
        }
        self._ctx.timeline.record(request.contact_id, JOURNEY_SPLIT, detail)
        self._ctx.set_variant(request, variant.name)
        return result


class FinishTask:
    def __init__(self, context: RunnerContext) -> None:
        self._ctx = context

    def run(self, request: StepRequest) -> EndResult:
        if _contact(self._ctx, request.contact_id) is not None:
            detail = request.tagged({"journey": request.journey, "execution": request.execution})
            if request.step is not None:
                # The send that ended the journey: its figures item counts the completion too.
                detail["step"] = request.step
            self._ctx.timeline.record(request.contact_id, JOURNEY_COMPLETED, detail)
        self._ctx.count(METRIC_COMPLETED)
        self._ctx.mark_run(request, RunStatus.SUCCEEDED)
        return EndResult(outcome="completed")


class FailTask:
    """A task error caught by the state machine (Catch States.ALL): recorded, then the Fail state."""

    def __init__(self, context: RunnerContext) -> None:
        self._ctx = context

    def run(self, request: StepRequest) -> EndResult:
        error = request.error.error if request.error is not None else ""
        cause = _cause(request.error.cause if request.error is not None else "")
        # The cause's text can quote what the task was given (a contact's data): the timeline has it.
        logger.error(
            "Journey failed", extra={"journey": request.journey, "step": request.step, "error": error}
        )
        if _contact(self._ctx, request.contact_id) is not None:
            detail: dict[str, Any] = {
                "journey": request.journey,
                "step": request.step,
                "execution": request.execution,
                "error": error,
                "cause": cause,
            }
            self._ctx.timeline.record(request.contact_id, JOURNEY_FAILED, request.tagged(detail))
        self._ctx.count(METRIC_ERRORS)
        self._ctx.mark_run(request, RunStatus.FAILED)
        return EndResult(outcome="failed")


def _step_of(context: RunnerContext, request: StepRequest, kind: str) -> tuple[Journey, Step]:
    journey = context.catalog().journeys.get(request.journey)
    if journey is None or request.step is None:
        raise StepNotFound(f"no journey {request.journey!r} step {request.step!r} in the catalog")
    try:
        step = journey.step(request.step)
    except KeyError:
        raise StepNotFound(f"journey {request.journey!r} has no step {request.step!r}") from None
    if step.kind != kind:
        raise InvalidStep(f"step {request.step!r} of {request.journey!r} is a {step.kind}, not a {kind}")
    return journey, step


def _contact(context: RunnerContext, contact_id: str) -> Contact | None:
    try:
        return context.contacts.get(contact_id)
    except ContactNotFound:
        return None


def _cause(text: str) -> str:
    """A Lambda error's cause is its JSON error (`errorType`, `errorMessage`, `stackTrace`):
    keep the type and message, not the stack trace."""
    try:
        parsed = json.loads(text)
    except ValueError:
        return text[:_MAX_CAUSE]
    if isinstance(parsed, dict) and ("errorType" in parsed or "errorMessage" in parsed):
        return f"{parsed.get('errorType', '')}: {parsed.get('errorMessage', '')}"[:_MAX_CAUSE]
    return text[:_MAX_CAUSE]
