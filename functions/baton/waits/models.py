"""A waiter: one execution parked on a callback task until an event type arrives for a contact.

Stored in the waits table (apart from the runs) under (contact_id, sk = `<event type>#<execution
name>#<step>`), so the waiters of a contact for one event type are one query
(`begins_with(sk, "<event type>#")`; the `#` keeps `order` apart from `order.placed`).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from baton.clock import Timestamp


class Waiter(BaseModel):
    model_config = ConfigDict(frozen=True)

    contact_id: str
    event_type: str
    journey: str
    execution: str  # the execution ARN ($$.Execution.Id)
    execution_name: str
    step: str
    token: str  # $$.Task.Token: used once (SendTaskSuccess), then the waiter is deleted
    started_at: Timestamp
    timeout_at: Timestamp

    @property
    def sort_key(self) -> str:
        return wait_sort_key(self.event_type, self.execution_name, self.step)


def wait_sort_key(event_type: str, execution_name: str, step: str) -> str:
    """`<event type>#<execution name>#<step>`; with empty name and step, the event type's prefix."""
    if not execution_name and not step:
        return f"{event_type}#"
    return f"{event_type}#{execution_name}#{step}"


def received(event_type: str) -> dict[str, Any]:
    """The step result a resumed execution gets at `$.steps.<id>`: the event's type only. Its data
    and the caller's key may be personal, and the execution's history outlives erasure."""
    return {"event_received": True, "event": {"type": event_type}}


# What the timeout path stores at `$.steps.<id>`.
NOT_RECEIVED: dict[str, Any] = {"event_received": False, "event": None}
