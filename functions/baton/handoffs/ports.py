"""What the hand-off service needs from outside, as small interfaces: the queue's channels and
the Step Functions callback (the wiring passes the AWS ones; unit tests pass fakes)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from baton.handoffs.models import Task


class QueueNotifier(Protocol):
    def notify(self, task: Task) -> Mapping[str, Any]:
        """Tell the task's queue about it; what was reached (`{"topic": bool, "email": bool}`).
        Raises `QueueNotifyFailed` when a configured channel could not be reached."""
        ...


class Callbacks(Protocol):
    def succeed(self, token: str, output: Mapping[str, Any]) -> None:
        """SendTaskSuccess. Raises `CallbackClosed` when the token's task is already closed
        (timed out, completed) or unknown."""
        ...


class Timeline(Protocol):
    def record(self, contact_id: str, kind: str, detail: Mapping[str, object] | None = None) -> object: ...
