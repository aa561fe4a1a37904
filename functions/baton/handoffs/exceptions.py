"""Errors of the hand-off tasks; the API maps them to 404 and 409 (`baton.api.errors`)."""

from __future__ import annotations


class HandoffError(Exception):
    """Base of the hand-off errors."""


class TaskNotFound(HandoffError):
    def __init__(self, task_id: str) -> None:
        super().__init__(f"No task {task_id!r}.")
        self.task_id = task_id


class TaskConflict(HandoffError):
    """The task cannot be completed in its state (409)."""

    code = "task_conflict"


class TaskAlreadyCompleted(TaskConflict):
    code = "task_already_completed"

    def __init__(self, task_id: str) -> None:
        super().__init__(f"Task {task_id} is already completed; completing it again changes nothing.")


class TaskExpired(TaskConflict):
    code = "task_expired"

    def __init__(self, task_id: str, due_at: str) -> None:
        super().__init__(
            f"Task {task_id} expired: it was due at {due_at} and the journey has moved on (timed out"
            " or escalated); completing it now changes nothing."
        )


class QueueNotifyFailed(HandoffError):
    """The queue's topic or email could not be reached (the task exists; retried by Step Functions)."""
