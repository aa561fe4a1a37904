"""Waiting for events (`wait: {event, timeout}`).

- `start`: the `await_event` task stores the execution's task token as a waiter and records
  `wait.started`; the callback task then parks (TimeoutSeconds = the step's timeout, R-REL-3).
- `resume`: `EventService.record` hands every event over; each of the contact's waiters for
  that event type is claimed with a conditional delete, then answered with SendTaskSuccess
  (`{"event_received": true, "event": {"type"}}`) and `wait.event_received` is recorded. The same
  event twice resumes nothing the second time: the waiter is gone (and the idempotency key has
  already deduplicated the call). Only events arriving after the wait started count.
- `timed_out`: the state machine's timeout path (Catch States.Timeout -> the `wait_timed_out`
  task) removes the waiter and records `wait.timed_out`.
If SendTaskSuccess fails for another reason than a stale token, the waiter is put back and the
error propagates, so the caller's retry (the API client's, or EventBridge's) resumes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Final, Protocol

from baton.clock import Clock, to_iso
from baton.waits.models import Waiter, received, wait_sort_key
from baton.waits.repository import WaitRepository
from baton.waits.tokens import TaskTokens

WAIT_STARTED: Final = "wait.started"
WAIT_EVENT_RECEIVED: Final = "wait.event_received"
WAIT_TIMED_OUT: Final = "wait.timed_out"


class TimelineRecorder(Protocol):
    """What the waits write to the contact's timeline (`TimelineService.record`)."""

    def record(self, contact_id: str, kind: str, detail: Mapping[str, object] | None = None) -> object: ...


class WaitService:
    def __init__(
        self, repository: WaitRepository, tokens: TaskTokens, timeline: TimelineRecorder, clock: Clock
    ) -> None:
        self._repository = repository
        self._tokens = tokens
        self._timeline = timeline
        self._clock = clock

    def start(
        self,
        *,
        contact_id: str,
        event_type: str,
        journey: str,
        execution: str,
        execution_name: str,
        step: str,
        token: str,
        timeout: timedelta,
    ) -> Waiter:
        now = self._clock.now()
        waiter = Waiter(
            contact_id=contact_id,
            event_type=event_type,
            journey=journey,
            execution=execution,
            execution_name=execution_name,
            step=step,
            token=token,
            started_at=now,
            timeout_at=now + timeout,
        )
        self._repository.put(waiter)
        self._timeline.record(
            contact_id,
            WAIT_STARTED,
            {
                "journey": journey,
                "step": step,
                "execution": execution_name,
                "event": event_type,
                "timeout_at": to_iso(waiter.timeout_at),
            },
        )
        return waiter

    def resume(self, contact_id: str, event_type: str, idempotency_key: str) -> list[Waiter]:
        """Resume every execution of the contact waiting for `event_type`; the waiters resumed."""
        resumed: list[Waiter] = []
        output = received(event_type)
        for waiter in self._repository.of_event(contact_id, event_type):
            if not self._repository.claim(waiter):
                continue  # another delivery of this event (or the timeout path) took it
            try:
                answered = self._tokens.succeed(waiter.token, output)
            except Exception:
                self._repository.put(waiter)  # not answered: let the retry find it again
                raise
            if not answered:
                continue  # timed out or stopped meanwhile: its own path records that
            self._timeline.record(
                contact_id,
                WAIT_EVENT_RECEIVED,
                {
                    "journey": waiter.journey,
                    "step": waiter.step,
                    "execution": waiter.execution_name,
                    "event": event_type,
                    "idempotency_key": idempotency_key,
                },
            )
            resumed.append(waiter)
        return resumed

    def timed_out(
        self, *, contact_id: str, event_type: str, journey: str, execution_name: str, step: str
    ) -> None:
        """The timeout path: forget the waiter and say so on the timeline (once per waiter)."""
        if self._repository.remove(contact_id, wait_sort_key(event_type, execution_name, step)):
            self._timeline.record(
                contact_id,
                WAIT_TIMED_OUT,
                {"journey": journey, "step": step, "execution": execution_name, "event": event_type},
            )
