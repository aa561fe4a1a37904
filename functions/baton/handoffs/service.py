"""Hand-off tasks: create one (and tell its queue), list a queue's open tasks, complete one
(passing the baton back to the journey with SendTaskSuccess), expire one when its SLA passed.

Every task event is on the contact's timeline, so it tells the task's whole story:
`handoff.created`, `handoff.escalated`, `handoff.notified`, `handoff.completed`, `handoff.timed_out`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger

from baton.clock import Clock, to_iso
from baton.handoffs.callbacks import CallbackClosed
from baton.handoffs.exceptions import TaskAlreadyCompleted, TaskExpired, TaskNotFound
from baton.handoffs.models import TIMED_OUT, HandoffResult, Task, TaskStatus, task_id_of
from baton.handoffs.ports import Callbacks, QueueNotifier, Timeline
from baton.handoffs.repository import TaskRepository

logger = Logger(child=True)

HANDOFF_CREATED = "handoff.created"
HANDOFF_ESCALATED = "handoff.escalated"
HANDOFF_NOTIFIED = "handoff.notified"
HANDOFF_COMPLETED = "handoff.completed"
HANDOFF_TIMED_OUT = "handoff.timed_out"


class HandoffService:
    def __init__(
        self,
        tasks: TaskRepository,
        notifier: QueueNotifier,
        callbacks: Callbacks,
        timeline: Timeline,
        clock: Clock,
    ) -> None:
        self._tasks = tasks
        self._notifier = notifier
        self._callbacks = callbacks
        self._timeline = timeline
        self._clock = clock

    def create(
        self,
        *,
        queue: str,
        journey: str,
        step: str,
        execution: str,
        contact_id: str,
        text: str,
        due_at: datetime,
        token: str,
        escalated_from: str | None = None,
    ) -> Task:
        """The task for this (execution, step, escalation level), created once: a retried
        invocation finds it and, while it is open, keeps the newest token (a retry may bring one)."""
        task = Task(
            task_id=task_id_of(execution, step, escalated_from),
            queue=queue,
            journey=journey,
            step=step,
            execution=execution,
            contact_id=contact_id,
            text=text,
            token=token,
            created_at=self._clock.now(),
            due_at=due_at,
            escalated_from=escalated_from,
        )
        if self._tasks.add(task):
            detail = _detail(task) | {"due_at": to_iso(task.due_at)}
            self._timeline.record(contact_id, HANDOFF_CREATED, detail)
            if escalated_from is not None:
                self._timeline.record(
                    contact_id, HANDOFF_ESCALATED, _detail(task) | {"escalated_from": escalated_from}
                )
        else:
            stored = self._tasks.get(task.task_id)
            assert stored is not None  # tasks are never deleted but with their contact
            task = stored
            if stored.status == TaskStatus.OPEN and stored.token != token:
                renewed = stored.model_copy(update={"token": token})
                if self._tasks.replace_if(renewed, TaskStatus.OPEN):
                    task = renewed
            if self._notified(task):
                return task
        # Raises QueueNotifyFailed: the task stays, the invocation is retried and notifies then.
        reached = self._notifier.notify(task)
        self._timeline.record(contact_id, HANDOFF_NOTIFIED, _detail(task) | dict(reached))
        self._mark_notified(task)
        return task

    def list_open(self, queue: str) -> list[Task]:
        return self._tasks.open_in(queue)

    def get(self, task_id: str) -> Task:
        task = self._tasks.get(task_id)
        if task is None:
            raise TaskNotFound(task_id)
        return task

    def complete(self, task_id: str, outcome: str, note: str | None = None) -> Task:
        """Open -> completed once, then SendTaskSuccess with the step result. Raises TaskNotFound,
        TaskAlreadyCompleted (409), TaskExpired (409: the SLA passed, or the journey moved on)."""
        task = self.get(task_id)
        now = self._clock.now()
        if task.status == TaskStatus.COMPLETED:
            raise TaskAlreadyCompleted(task_id)
        if task.status == TaskStatus.EXPIRED:
            raise TaskExpired(task_id, to_iso(task.due_at))
        if now >= task.due_at:
            # The journey's timeout fires at the same moment (TimeoutSeconds = SLA): too late.
            self._expire(task, now)
            raise TaskExpired(task_id, to_iso(task.due_at))
        completed = task.model_copy(
            update={"status": TaskStatus.COMPLETED, "outcome": outcome, "note": note, "completed_at": now}
        )
        if not self._tasks.replace_if(completed, TaskStatus.OPEN):
            return self._lost_race(task_id)
        try:
            self._callbacks.succeed(task.token, result_of(completed))
        except CallbackClosed:
            # The execution timed the task out first: the baton was not passed.
            self._tasks.replace_if(
                task.model_copy(update={"status": TaskStatus.EXPIRED, "expired_at": now}),
                TaskStatus.COMPLETED,
            )
            self._record_timed_out(task)
            raise TaskExpired(task_id, to_iso(task.due_at)) from None
        except Exception:
            # Not passed (throttled, network): reopen so the person can try again.
            self._tasks.replace_if(task, TaskStatus.COMPLETED)
            raise
        # When it was made and due: the queue's figures count the time to complete.
        timing = {"created_at": to_iso(task.created_at), "due_at": to_iso(task.due_at)}
        self._timeline.record(
            task.contact_id,
            HANDOFF_COMPLETED,
            _detail(completed) | {"outcome": outcome, "note": note} | timing,
        )
        return completed

    def expire(self, task_id: str) -> Task:
        """The journey timed the task out: mark it expired (once) and record it."""
        task = self.get(task_id)
        if task.status != TaskStatus.OPEN:
            return task
        expired = self._expire(task, self._clock.now())
        return expired if expired is not None else self.get(task_id)

    def timed_out_result(self, task: Task) -> HandoffResult:
        return HandoffResult(
            outcome=TIMED_OUT,
            handoff_outcome=TIMED_OUT,
            task_id=task.task_id,
            escalated=task.escalated_from is not None,
        )

    def delete_all(self, contact_id: str) -> int:
        return self._tasks.delete_all(contact_id)

    def _expire(self, task: Task, now: datetime) -> Task | None:
        expired = task.model_copy(update={"status": TaskStatus.EXPIRED, "expired_at": now})
        if not self._tasks.replace_if(expired, TaskStatus.OPEN):
            return None
        self._record_timed_out(task)
        return expired

    def _record_timed_out(self, task: Task) -> None:
        self._timeline.record(
            task.contact_id, HANDOFF_TIMED_OUT, _detail(task) | {"due_at": to_iso(task.due_at)}
        )

    def _lost_race(self, task_id: str) -> Task:
        current = self.get(task_id)
        if current.status == TaskStatus.COMPLETED:
            raise TaskAlreadyCompleted(task_id)
        raise TaskExpired(task_id, to_iso(current.due_at))

    def _notified(self, task: Task) -> bool:
        return task.notified_at is not None

    def _mark_notified(self, task: Task) -> None:
        stored = self._tasks.get(task.task_id)
        if stored is not None and stored.notified_at is None:
            self._tasks.replace_if(
                stored.model_copy(update={"notified_at": self._clock.now()}), stored.status
            )


def result_of(task: Task) -> dict[str, Any]:
    """The step result a completed task hands the journey (SendTaskSuccess output, `$.steps.<step>`)."""
    return HandoffResult(
        outcome="completed",
        handoff_outcome=task.outcome,
        task_id=task.task_id,
        escalated=task.escalated_from is not None,
    ).model_dump(mode="json")


def _detail(task: Task) -> dict[str, Any]:
    return {
        "task_id": task.task_id,
        "queue": task.queue,
        "journey": task.journey,
        "step": task.step,
        "execution": task.execution,
    }
