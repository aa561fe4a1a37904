"""Task tokens behind a small interface: answer a parked callback task once.

`StepFunctionsTaskTokens` calls SendTaskSuccess; a token Step Functions no longer knows (the
task timed out, the execution ended or was stopped) answers False: nothing is waiting on it any
more. `InMemoryTaskTokens` records what was sent (unit tests).
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from typing import Any, Final, Protocol

from botocore.exceptions import ClientError

from baton import aws

# SendTaskSuccess errors meaning "nobody waits on this token any more".
STALE_TOKEN_ERRORS: Final = frozenset({"TaskDoesNotExist", "TaskTimedOut", "InvalidToken"})


class TaskTokenClient(Protocol):
    def send_task_success(self, **kwargs: Any) -> dict[str, Any]: ...


class TaskTokens(ABC):
    @abstractmethod
    def succeed(self, token: str, output: dict[str, Any]) -> bool:
        """Resume the task with `output`; False when the token is no longer waited on."""


class StepFunctionsTaskTokens(TaskTokens):
    def __init__(self, client: TaskTokenClient | None = None) -> None:
        self._client: TaskTokenClient = client or aws.client("stepfunctions")

    def succeed(self, token: str, output: dict[str, Any]) -> bool:
        try:
            self._client.send_task_success(taskToken=token, output=json.dumps(output, separators=(",", ":")))
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code", "")) in STALE_TOKEN_ERRORS:
                return False
            raise
        return True


class InMemoryTaskTokens(TaskTokens):
    def __init__(self, stale: set[str] | None = None) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.stale = stale if stale is not None else set()

    def succeed(self, token: str, output: dict[str, Any]) -> bool:
        if token in self.stale or any(sent == token for sent, _ in self.sent):
            return False
        self.sent.append((token, output))
        return True
