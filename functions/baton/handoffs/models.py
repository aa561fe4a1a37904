"""A hand-off task as stored and as the API shows it, the completion the API takes, and the step
result the state machine stores at `$.steps.<step id>` (the SendTaskSuccess output)."""

from __future__ import annotations

import hashlib
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from baton.clock import Timestamp, to_iso

# What `task_id_of` makes: `task-` and 32 hex digits, in a path as in the tasks table.
TaskId = Annotated[str, StringConstraints(min_length=37, max_length=37, pattern=r"^task-[0-9a-f]{32}$")]
Outcome = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_.-]*$")]


class TaskStatus(StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    EXPIRED = "expired"  # the SLA passed: the journey timed out, escalated or went on


class Task(BaseModel):
    model_config = ConfigDict(frozen=True)

    task_id: str
    queue: str
    journey: str
    step: str
    execution: str  # the execution ARN
    contact_id: str
    text: str
    token: str  # the execution's task token (SendTaskSuccess); never shown by the API
    status: TaskStatus = TaskStatus.OPEN
    created_at: Timestamp
    due_at: Timestamp
    escalated_from: str | None = None  # the task that timed out before this one
    outcome: str | None = None
    note: str | None = None
    completed_at: Timestamp | None = None
    expired_at: Timestamp | None = None
    notified_at: Timestamp | None = None  # the queue was told (once, even if the task is retried)

    @property
    def status_due(self) -> str:
        """The by_queue index's sort key: a queue's open tasks, oldest due first."""
        return f"{self.status}#{to_iso(self.due_at)}"


class TaskView(BaseModel):
    """A task as `GET /v1/tasks` shows it (the callback token stays inside Baton)."""

    model_config = ConfigDict(frozen=True)

    task_id: str
    queue: str
    journey: str
    step: str
    contact_id: str
    text: str
    status: TaskStatus
    created_at: Timestamp
    due_at: Timestamp
    escalated_from: str | None = None
    outcome: str | None = None
    note: str | None = None
    completed_at: Timestamp | None = None

    @classmethod
    def of(cls, task: Task) -> TaskView:
        return cls.model_validate(task.model_dump(include=set(cls.model_fields)))


class TaskList(BaseModel):
    queue: str
    items: list[TaskView]


class Completion(BaseModel):
    """`POST /v1/tasks/{task_id}/complete`: what the person did, and a note for the record."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    outcome: Outcome
    note: Annotated[str, Field(max_length=2000)] | None = None


class HandoffResult(BaseModel):
    """The step result (`$.steps.<id>`): `handoff_outcome` is the person's outcome, or
    `timed_out` when nobody completed the task in time (so `{handoff_outcome: {step, is:
    timed_out}}` branches on it)."""

    model_config = ConfigDict(frozen=True)

    outcome: Literal["completed", "timed_out"]
    handoff_outcome: str | None
    task_id: str
    escalated: bool


TIMED_OUT: Literal["timed_out"] = "timed_out"


def task_id_of(execution: str, step: str, escalated_from: str | None) -> str:
    """Deterministic per (execution, step, escalation level): a retried task invocation finds
    the task it created, and the timeout path finds the task that timed out."""
    digest = hashlib.sha256(f"{execution}|{step}|{escalated_from or ''}".encode()).hexdigest()
    return f"task-{digest[:32]}"
