"""One entry point for every journey task: the payload's `action` picks the task."""

from __future__ import annotations

from typing import Any

from baton.delivery.service import Dispatcher
from baton.runner.context import RunnerContext
from baton.runner.models import Action, StepRequest, dump
from baton.runner.send import SendTask
from baton.runner.steps import BranchTask, FailTask, FinishTask


class JourneyRunner:
    def __init__(self, context: RunnerContext, dispatcher: Dispatcher) -> None:
        self.context = context
        self._send = SendTask(context, dispatcher)
        self._branch = BranchTask(context)
        self._finish = FinishTask(context)
        self._fail = FailTask(context)

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
