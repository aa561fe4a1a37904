"""Errors a journey task raises. Step Functions matches a Lambda error by its `errorType`, which
the Python runtime takes from the exception class's `__name__`: the retryable ones below carry
the names the state machines retry on (R-REL-4)."""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from contextlib import contextmanager

from baton.aws import is_retryable_aws_error


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


class AwsUnavailable(RetryLater):
    """An AWS service Baton itself reads or writes (DynamoDB, Secrets Manager) throttled it,
    failed on its side or could not be reached: the contact, consent, suppression, the subject,
    a secret will read fine a little later, so the journey waits instead of failing (R-REL-4).
    Lambda reports `Baton.AwsUnavailable`."""


# The names Step Functions sees (`errorType`); a dotted name cannot be written as a class name.
ProviderUnavailable.__name__ = ProviderUnavailable.__qualname__ = "Baton.ProviderUnavailable"
Throttled.__name__ = Throttled.__qualname__ = "Baton.Throttled"
RecordingUnfinished.__name__ = RecordingUnfinished.__qualname__ = "Baton.RecordingUnfinished"
AwsUnavailable.__name__ = AwsUnavailable.__qualname__ = "Baton.AwsUnavailable"
RETRYABLE_ERRORS: tuple[str, ...] = (
    ProviderUnavailable.__name__,
    Throttled.__name__,
    RecordingUnfinished.__name__,
    AwsUnavailable.__name__,
)


class SubjectErased(RunnerError):
    """The execution's subject is gone (the contact was erased while it ran): a task that would
    store something about the contact (a waiter, a hand-off task) has nobody to store it for."""


class TaskFailed(RunnerError):
    """Any other error of a task, reported by its type only: an exception's text can quote
    personal data (a validation error quotes the value), and the execution's history keeps
    whatever a task reports, beyond erasure. Lambda reports `Baton.TaskFailed`."""


TaskFailed.__name__ = TaskFailed.__qualname__ = "Baton.TaskFailed"


@contextmanager
def reported_by_type(keep: tuple[type[Exception], ...] = ()) -> Iterator[None]:
    """Let Baton's own errors through (their messages name journeys, steps, channels and
    provider codes only); turn an AWS call that throttled or failed on the service's side into
    `AwsUnavailable` (retried), and any other error (a programming error, a refused request)
    into `TaskFailed`; both name the error's type, never its message or its chained causes.

    This is the one place the send task's own reads and writes become retryable: a send whose
    provider was already called is settled by its ledger on the retry, never sent twice.
    `keep`: other errors whose type the state machine retries on, let through as they are."""
    passes: tuple[type[Exception], ...] = (RunnerError, *keep)
    try:
        yield
    except passes:
        raise
    except Exception as exc:
        frame = traceback.extract_tb(exc.__traceback__)[-1:]
        where = f" at {frame[0].filename.rpartition('/')[2]}:{frame[0].lineno}" if frame else ""
        error = AwsUnavailable if is_retryable_aws_error(exc) else TaskFailed
        raise error(f"{type(exc).__name__}{where}") from None


class StepNotFound(RunnerError):
    """The payload names a journey, step or template the catalog does not have (a deploy that
    changed the catalog under a running execution). Not retried: the journey fails."""


class InvalidStep(RunnerError):
    """The payload asks an action of a step of another kind (send of a wait, branch of a send)."""
