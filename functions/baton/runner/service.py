"""One entry point for every journey task: the payload's `action` picks the task."""

from __future__ import annotations

from typing import Any

from baton.delivery.service import Dispatcher
from baton.feedback.service import FeedbackService
from baton.handoffs.service import HandoffService
from baton.runner.context import RunnerContext
from baton.runner.exceptions import InvalidStep
from baton.runner.handoff import HandoffTask, HandoffTimeoutTask  # issue 4 (K2)
from baton.runner.models import Action, StepRequest, dump
from baton.runner.send import SendTask
from baton.runner.send_channel import AwaitReceiptTask, SendChannelTask  # issue 4 (K4)
from baton.runner.steps import BranchTask, FailTask, FinishTask
from baton.runner.wait_event import AwaitEventTask, WaitTimedOutTask  # issue 4 (K3)
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
    ) -> None:
        self.context = context
        self._send = SendTask(context, dispatcher)
        self._branch = BranchTask(context)
        self._finish = FinishTask(context)
        self._fail = FailTask(context)
        # Event waits (issue 4, K3): only a runner given the waits service can park on events.
        self._waits = waits
        # Hand-offs (issue 4, K2): only a runner given the hand-off service can create tasks.
        self._handoffs = handoffs
        # Delivery receipts (issue 4, K4): only a runner given the feedback service confirms delivery.
        self._dispatcher = dispatcher
        self._feedback = feedback

    def handle(self, request: StepRequest) -> dict[str, Any]:
        """The task's result, as the state machine stores it in `$.steps.<step>`."""
        match request.action:
            case Action.SEND:
                return dump(self._send.run(request))
            case Action.BRANCH:
                return dump(self._branch.run(request))
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
