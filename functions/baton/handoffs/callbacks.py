"""Passing the baton back: SendTaskSuccess on the task token the journey waits on."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol

from botocore.exceptions import ClientError

from baton import aws

# What Step Functions answers for a token whose task already ended (timed out, answered) or
# that never existed: the callback cannot reach the execution any more.
_CLOSED = frozenset({"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"})


class CallbackClosed(Exception):
    """The token's task has ended: the execution no longer waits for it."""


class StepFunctionsCallbackClient(Protocol):
    def send_task_success(self, **kwargs: Any) -> dict[str, Any]: ...


class StepFunctionsCallbacks:
    def __init__(self, client: StepFunctionsCallbackClient | None = None) -> None:
        self._client: StepFunctionsCallbackClient = client or aws.client("stepfunctions")

    def succeed(self, token: str, output: Mapping[str, Any]) -> None:
        try:
            self._client.send_task_success(taskToken=token, output=json.dumps(dict(output)))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _CLOSED:
                raise CallbackClosed(str(exc)) from exc
            raise
