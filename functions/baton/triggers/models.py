"""Input, output and stored models of the triggers: an event, its answer, and a journey run."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from baton.clock import Timestamp
from baton.contacts.models import ContactId
from baton.data.documents import FreeMap

EventType = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$", max_length=128)]


class EventIn(BaseModel):
    """`POST /v1/events` (contract): something happened to a contact."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    contact_id: ContactId
    type: EventType
    data: FreeMap = Field(default_factory=dict)
    # The caller's key for this event: the same key again starts nothing new (R-REL-2).
    idempotency_key: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class EventAccepted(BaseModel):
    """The answer (202): every journey this event started, the same for a repeated key."""

    journeys_started: list[str]


class RunStatus(StrEnum):
    """A Step Functions execution status, as last seen."""

    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    TIMED_OUT = "TIMED_OUT"
    ABORTED = "ABORTED"
    PENDING_REDRIVE = "PENDING_REDRIVE"


class Run(BaseModel):
    """One journey execution started for a contact (the runs table, keyed by contact)."""

    model_config = ConfigDict(frozen=True)

    contact_id: str
    journey: str
    execution_name: str
    execution_arn: str
    status: RunStatus = RunStatus.RUNNING
    started_at: Timestamp
    event_type: str
    idempotency_key: str
    ended_at: Timestamp | None = None
    exited_on: str | None = None  # the exit_on event type that stopped it
    # A long run goes on in a new execution before the history limit (R-REL-1): the execution
    # this one continues, and the one that continued it.
    continues: str | None = None
    continued_as: str | None = None
    # The run's variant: the split's (kept by the split task), or `holdout` for a contact the
    # journey's holdout entered and sent nothing; None before or without either.
    variant: str | None = None

    @property
    def sort_key(self) -> str:
        return run_sort_key(self.journey, self.execution_name)


def run_sort_key(journey_id: str, execution_name: str) -> str:
    """`<journey>#<execution name>`: a journey's runs of a contact share the `<journey>#` prefix."""
    return f"{journey_id}#{execution_name}"
