"""Errors a journey task raises. Step Functions matches a Lambda error by its `errorType`, which
the Python runtime takes from the exception class's `__name__`: the retryable ones below carry
the names the state machines retry on (PLAN3 decision 3, R-REL-4)."""

from __future__ import annotations


class RunnerError(Exception):
    """Base of the journey runner's errors."""


class RetryLater(RunnerError):
    """The task may succeed if Step Functions runs it again (with backoff and full jitter)."""


class ProviderUnavailable(RetryLater):
    """A provider could not take the message now (5xx, timeout, network), or a previous
    attempt at this very send is still in progress. Lambda reports `Baton.ProviderUnavailable`."""


class Throttled(RetryLater):
    """A provider asked Baton to slow down (throttling, HTTP 429). Lambda reports `Baton.Throttled`."""


class RecordingUnfinished(RetryLater):
    """The provider's answer is in the send ledger but its recording (the timeline, the ledger's
    last write) failed: the task run again finishes it without sending. Lambda reports
    `Baton.RecordingUnfinished`."""


# The names Step Functions sees (`errorType`); a dotted name cannot be written as a class name.
ProviderUnavailable.__name__ = ProviderUnavailable.__qualname__ = "Baton.ProviderUnavailable"
Throttled.__name__ = Throttled.__qualname__ = "Baton.Throttled"
RecordingUnfinished.__name__ = RecordingUnfinished.__qualname__ = "Baton.RecordingUnfinished"
RETRYABLE_ERRORS: tuple[str, ...] = (
    ProviderUnavailable.__name__,
    Throttled.__name__,
    RecordingUnfinished.__name__,
)


class StepNotFound(RunnerError):
    """The payload names a journey, step or template the catalog does not have (a deploy that
    changed the catalog under a running execution). Not retried: the journey fails."""


class InvalidStep(RunnerError):
    """The payload asks an action of a step of another kind (send of a wait, branch of a send)."""
