"""The task payload a journey's state machine sends and what each task returns.

Payload: `{"action", "journey", "step", "execution": $$.Execution.Id, "steps", "error" (fail
only)}`. Results go to `$.steps.<step id>`, so the state machine's Choice states read `outcome`,
`until`, `next`. Neither carries personal data (R-GDPR-5: execution histories cannot be erased):
the runner looks up whom the execution is about, and the trigger event's data, by the
execution's name (`baton.triggers.subjects`), and results hold codes, ids and times only.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, PrivateAttr, StringConstraints

from baton.triggers.subjects import Subject

Name = Annotated[str, StringConstraints(min_length=1, max_length=2048)]


class Action(StrEnum):
    SEND = "send"
    BRANCH = "branch"
    # A split: the contact's variant, and the step it leads to.
    SPLIT = "split"
    FINISH = "finish"
    FAIL = "fail"
    # Event waits: register the waiter (a callback task); its timeout path.
    AWAIT_EVENT = "await_event"
    WAIT_TIMED_OUT = "wait_timed_out"
    # Hand-offs: create the task (a callback task); its timeout path.
    HANDOFF = "handoff"
    HANDOFF_TIMEOUT = "handoff_timeout"
    # Delivery receipts: a send step with confirm_delivery, one channel per task
    # (`channel`; none: every channel failed); register the receipt waiter (a callback task).
    SEND_CHANNEL = "send_channel"
    AWAIT_RECEIPT = "await_receipt"
    # A long run goes on in a new execution before the history limit (R-REL-1), at `resume`.
    CONTINUE_AS_NEW = "continue_as_new"


class TriggerEvent(BaseModel):
    """The event that started the execution, as its subject keeps it."""

    model_config = ConfigDict(frozen=True)

    type: str = ""
    data: dict[str, JsonValue] = Field(default_factory=dict)


class TaskError(BaseModel):
    """`$.error`, as a Catch with ResultPath `$.error` writes it."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    error: Annotated[str, Field(alias="Error")] = ""
    cause: Annotated[str, Field(alias="Cause")] = ""


class SubjectUnknown(Exception):
    """A task asked whom its execution is about before the runner looked it up."""


def variant_in(steps: Mapping[str, Mapping[str, object]]) -> str | None:
    """The variant a run's step results hold: the split's answer, the only one with a `variant`."""
    for result in steps.values():
        variant = result.get("variant")
        if isinstance(variant, str):
            return variant
    return None


class StepRequest(BaseModel):
    """One task invocation. Unknown keys are ignored so a newer state machine can pass more; a
    `contact_id` or event data in the payload is ignored too: only the subject says whom."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    action: Action
    journey: Name
    step: Name | None = None  # the finish task of a journey names no step
    execution: Name  # the execution ARN (`$$.Execution.Id`)
    steps: dict[str, dict[str, JsonValue]] = Field(default_factory=dict)
    error: TaskError | None = None
    token: str | None = None  # callback tasks: `$$.Task.Token`
    escalated: bool = False  # handoff: the escalation's task, not the first one
    channel: str | None = None  # send_channel / await_receipt: the channel tried
    # Send tasks: which pass through the step this is (`$.passes.<step>.n`, counted by the state
    # machine on entering the step): a loop sends on every pass, a Retry or redrive of the same
    # pass does not (R-REL-6). Absent (a definition compiled before passes were counted): 1.
    pass_number: Annotated[int, Field(alias="pass", ge=1)] = 1
    # Send tasks: the task's retry so far (`$$.State.RetryCount`) and how many its Retry allows.
    # On the last one a provider still throttling or unavailable holds the step instead of
    # failing it (R-REL-4): the message waits and is tried again, never dropped. Absent (a
    # definition compiled before): the error is raised on every attempt, as before.
    retry_count: Annotated[int, Field(ge=0)] = 0
    max_retries: Annotated[int, Field(ge=0)] | None = None
    # Send tasks of a journey's last step: a sent message completes the journey in this task
    # (journey.completed, the run closed), and the state machine goes straight to its end.
    ends: bool = False
    # continue_as_new: where the new execution starts, and the run's passes (`$.passes`).
    resume: Name | None = None
    passes: dict[str, JsonValue] | None = None

    _subject: Subject | None = PrivateAttr(default=None)

    @property
    def execution_name(self) -> str:
        """The last part of the execution ARN (the deterministic name, R-REL-2)."""
        return self.execution.rsplit(":", 1)[-1]

    def about(self, subject: Subject) -> StepRequest:
        """This request with whom it is about (the runner's lookup by execution name)."""
        request = self.model_copy()
        request._subject = subject
        return request

    @property
    def variant(self) -> str | None:
        """The run's variant: the split's answer (`$.steps.<split id>.variant`; only a split's
        result has one, and a journey splits at most once), or None before or without a split.
        Read from `steps`, which every task is given and a continuation or redrive carries on."""
        return variant_in(self.steps)

    def tagged(self, detail: dict[str, Any]) -> dict[str, Any]:
        """A timeline entry's detail with the run's variant, when it has one (counted by it)."""
        variant = self.variant
        return {**detail, "variant": variant} if variant is not None else detail

    @property
    def last_attempt(self) -> bool:
        """Whether Step Functions retries this task no more (its Retry is used up)."""
        return self.max_retries is not None and self.retry_count >= self.max_retries

    @property
    def subject(self) -> Subject:
        return self._known()

    @property
    def contact_id(self) -> str:
        return self._known().contact_id

    @property
    def event(self) -> TriggerEvent:
        subject = self._known()
        return TriggerEvent(type=subject.event_type, data=subject.data)

    def _known(self) -> Subject:
        if self._subject is None:
            raise SubjectUnknown(f"the {self.action} task of {self.journey!r} has not looked up its subject")
        return self._subject


# unknown: the provider may have taken it (an ambiguous answer); settled by its events.
AttemptOutcome = Literal["sent", "refused", "held", "failed", "unknown"]
StepOutcome = Literal["sent", "skipped", "failed", "held"]


class Attempt(BaseModel):
    """One channel tried by a send step."""

    model_config = ConfigDict(frozen=True)

    channel: str
    outcome: AttemptOutcome
    reason: str | None = None  # the gate's reason, or the provider's error code
    provider_message_id: str | None = None


class SendResult(BaseModel):
    """What a send step returns (`$.steps.<id>`): `held` comes back with `until` (ISO 8601, `Z`)."""

    model_config = ConfigDict(frozen=True)

    outcome: StepOutcome
    channel: str | None = None
    until: str | None = None
    reason: str | None = None
    attempts: list[Attempt] = Field(default_factory=list)


class BranchResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    next: str  # a step id or `end`
    case: int | None = None  # the index of the case that matched; None: the default


class SplitResult(BaseModel):
    """What a split returns: the contact's variant and where it leads (a step id or `end`);
    no variant when the contact was erased before the split (the run ends)."""

    model_config = ConfigDict(frozen=True)

    variant: str | None
    next: str


class EndResult(BaseModel):
    """What finish and fail return (the state machine ends right after)."""

    model_config = ConfigDict(frozen=True)

    outcome: Literal["completed", "failed"]


def dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json")
