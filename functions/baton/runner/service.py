"""One entry point for every journey task: the payload's `action` picks the task, after the
execution's subject (whom it is about, the trigger event's data) is read by its name."""

from __future__ import annotations

from typing import Any

from baton.delivery.service import Dispatcher
from baton.feedback.service import FeedbackService
from baton.handoffs.service import HandoffService
from baton.journeys.models import END
from baton.runner.context import RunnerContext
from baton.runner.exceptions import InvalidStep, SubjectErased
from baton.runner.handoff import HandoffTask, HandoffTimeoutTask
from baton.runner.models import Action, BranchResult, EndResult, SendResult, SplitResult, StepRequest, dump
from baton.runner.send import METRIC_SKIPPED, NO_CONTACT, SendTask
from baton.runner.send_channel import AwaitReceiptTask, ChannelResult, SendChannelTask
from baton.runner.steps import BranchTask, FailTask, FinishTask, SplitTask
from baton.runner.wait_event import AwaitEventTask, WaitTimedOutTask
from baton.triggers.continuation import Continuations
from baton.waits.service import WaitService


class JourneyRunner:
    def __init__(
        self,
        context: RunnerContext,
        dispatcher: Dispatcher,
        *,
        waits: WaitService | None = None,
        handoffs: HandoffService | None = None,
        feedback: FeedbackService | None = None,
        continuations: Continuations | None = None,
    ) -> None:
        self.context = context
        self._send = SendTask(context, dispatcher)
        self._branch = BranchTask(context)
        self._split = SplitTask(context)
        self._finish = FinishTask(context)
        self._fail = FailTask(context)
        # Event waits: only a runner given the waits service can park on events.
        self._waits = waits
        # Hand-offs: only a runner given the hand-off service can create tasks.
        self._handoffs = handoffs
        # Delivery receipts: only a runner given the feedback service confirms delivery.
        self._dispatcher = dispatcher
        self._feedback = feedback
        # Long runs: only a runner given the continuations can hand a run on (R-REL-1).
        self._continuations = continuations

    def handle(self, request: StepRequest) -> dict[str, Any]:
        """The task's result, as the state machine stores it in `$.steps.<step>`."""
        subject = self.context.subjects.get(request.execution_name)
        if subject is None:
            return self._erased(request)
        request = request.about(subject)
        match request.action:
            case Action.SEND:
                return dump(self._send.run(request))
            case Action.BRANCH:
                return dump(self._branch.run(request))
            case Action.SPLIT:
                return dump(self._split.run(request))
            case Action.FINISH:
                return dump(self._finish.run(request))
            case Action.FAIL:
                return dump(self._fail.run(request))
            case Action.AWAIT_EVENT:
                return AwaitEventTask(self.context, self._waiting()).run(request)
            case Action.WAIT_TIMED_OUT:
                return WaitTimedOutTask(self.context, self._waiting()).run(request)
            case Action.HANDOFF:
                return HandoffTask(self.context, self._handing_off()).run(request)
            case Action.HANDOFF_TIMEOUT:
                return HandoffTimeoutTask(self.context, self._handing_off()).run(request)
            case Action.SEND_CHANNEL:
                return SendChannelTask(self.context, self._dispatcher, self._confirming()).run_channel(
                    request
                )
            case Action.AWAIT_RECEIPT:
                return AwaitReceiptTask(self.context, self._confirming()).run(request)
            case Action.CONTINUE_AS_NEW:
                return self._continue(request)

    def _erased(self, request: StepRequest) -> dict[str, Any]:
        """The contact was erased while the execution ran (erasure stops it; this is the race):
        send nothing, record nothing, end. A task that would park the journey on the contact's
        behalf fails instead, which ends it through the state machine's failure path."""
        match request.action:
            case Action.SEND | Action.SEND_CHANNEL:
                self.context.count(METRIC_SKIPPED)
                result = SendResult if request.action is Action.SEND else ChannelResult
                return dump(result(outcome="skipped", reason=NO_CONTACT))
            case Action.BRANCH:
                return dump(BranchResult(next=END))
            case Action.SPLIT:
                return dump(SplitResult(variant=None, next=END))
            case Action.FINISH:
                return dump(EndResult(outcome="completed"))
            case Action.FAIL:
                return dump(EndResult(outcome="failed"))
            case _:
                raise SubjectErased(f"the {request.action} task of {request.journey!r} has no subject")

    def _continue(self, request: StepRequest) -> dict[str, Any]:
        """Start the execution that takes this run on at `resume` (the old one then ends)."""
        if self._continuations is None:
            raise InvalidStep("this runner was built without the continuations (long runs)")
        if request.resume is None:
            raise InvalidStep(f"the continue_as_new task of {request.journey!r} names no place to resume")
        name = self._continuations.continue_run(
            request.execution,
            request.subject,
            resume=request.resume,
            steps=dict(request.steps),
            passes=request.passes,
            variant=request.variant,
        )
        return {"continued_as": name}

    def _waiting(self) -> WaitService:
        if self._waits is None:
            raise InvalidStep("this runner was built without the waits service (event waits)")
        return self._waits

    def _handing_off(self) -> HandoffService:
        if self._handoffs is None:
            raise InvalidStep("this runner was built without the hand-off service (handoff steps)")
        return self._handoffs

    def _confirming(self) -> FeedbackService:
        if self._feedback is None:
            raise InvalidStep("this runner was built without the feedback service (confirm_delivery)")
        return self._feedback
