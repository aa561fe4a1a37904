"""Step Functions in local mode: moto's ASL interpreter runs the template's state machines, with
Lambda tasks run in-process and Wait states and Retry backoffs on the virtual clock.

How it is driven, and why it is deterministic:
- Executions run on moto's own threads, but only one at a time, when the stack's `Scheduler`
  gives it the turn (see scheduler.py): a started execution waits for its turn before its first
  state; a Wait state or a Retry backoff gives the turn back and sleeps until the virtual clock
  reaches its due time (Seconds, SecondsPath: now + seconds; Timestamp, TimestampPath: that
  instant); `POST /_local/clock` (`Scheduler.advance_to`) wakes the sleepers in due-time order.
  Real time never moves an execution.
- Every call that may start or stop executions returns only once they have settled (each one
  asleep on a future time, or finished): an API request or inbound SMS (the server settles
  after the handler returns), `LocalStack.invoke`, and `StartExecution` / `StopExecution`
  called from outside a handler (a test's boto3 call). Calls from inside a handler cannot wait
  (the executions need the invoke lock that handler holds); the request around it settles.
- Lambda tasks: moto's interpreter calls `lambda:Invoke` through moto's simple Lambda backend,
  whose `invoke` is replaced here: a function of a running local stack is run by its
  `LambdaRuntime` (its own environment, the process-wide invoke lock) and answers as Lambda
  does: the JSON payload, or `FunctionError: Unhandled` with `{"errorType": <exception class
  name>, "errorMessage", ...}` so Retry and Catch `ErrorEquals` match the class name.
- FULL jitter on a Retry draws a random delay in [0, interval], as AWS does: advancing by the
  whole interval always covers it.

moto is patched at class level while at least one local stack runs (`attach`/`detach`); a
state machine or function that no local stack registered keeps moto's own behaviour. Written
against moto 5.2.5's parser (`install` checks that every patched attribute still exists).

Not emulated: callback tasks (`.waitForTaskToken`) hold the turn until answered (a request
that starts one times out settling), and their timeouts run on real time; Wait or Retry in two
branches of a Parallel or Map at once fails the execution (UnsupportedConcurrency); Lambda
timeouts are only logged, and Lambda service errors (`Lambda.ServiceException`, ...) never
happen; execution logs are not delivered to CloudWatch Logs; `$$.State.EnteredTime` is real
time (history timestamps, start and stop dates are virtual).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.retry.max_attempts_decl import MaxAttemptsOutcome
from moto.stepfunctions.parser.asl.component.common.retry.retrier_decl import RetrierDecl
from moto.stepfunctions.parser.asl.component.common.retry.retrier_outcome import RetrierOutcome
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp import Timestamp
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager
from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication, Execution
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
from moto.stepfunctions.parser.models import StepFunctionsParserBackend

from baton.clock import process_clock
from infra.local.exceptions import InvocationError, LocalStackError
from infra.local.runtime import invoking
from infra.local.scheduler import Scheduler

log = logging.getLogger(__name__)

# Invokes a function of a stack by logical id with an event; raises InvocationError.
Invoke = Callable[[str, Any], Any]

# How long StopExecution waits for a just-started execution to have an environment to stop.
_STOP_WAIT_S: Final = 5.0


@dataclass(frozen=True)
class _Target:
    invoke: Invoke
    logical_id: str


class _Registry:
    """What the running local stacks own: state machines, executions and functions."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.state_machines: dict[str, Scheduler] = {}
        self.executions: dict[str, Scheduler] = {}
        self.functions: dict[str, _Target] = {}  # function name -> target
        self.attached = 0

    def scheduler_of_machine(self, arn: str) -> Scheduler | None:
        with self.lock:
            found = self.state_machines.get(arn)
            if found is None and arn.count(":") == 7:  # a version or alias ARN
                found = self.state_machines.get(arn.rsplit(":", 1)[0])
            return found

    def scheduler_of_execution(self, arn: str | None) -> Scheduler | None:
        if arn is None:
            return None
        with self.lock:
            return self.executions.get(arn)

    def function(self, name_or_arn: str) -> _Target | None:
        with self.lock:
            return self.functions.get(function_name(name_or_arn))


_REGISTRY: Final = _Registry()


def function_name(name_or_arn: str) -> str:
    """`fn`, `fn:qualifier`, `arn:aws:lambda:r:a:function:fn[:qualifier]` -> `fn`."""
    if name_or_arn.startswith("arn:"):
        parts = name_or_arn.split(":")
        return parts[6] if len(parts) > 6 else name_or_arn
    return name_or_arn.split(":", 1)[0]


def execution_id(env: Environment) -> str | None:
    """The execution ARN an environment (or a frame of it) belongs to."""
    try:
        return str(env.states.context_object.context_object_data["Execution"]["Id"])
    except (AttributeError, KeyError, TypeError):
        return None


# Due times --------------------------------------------------------------------------------


def wait_due(wait: WaitFunction, env: Environment, now: datetime) -> datetime:
    """When a Wait state ends: now + Seconds/SecondsPath, or the Timestamp/TimestampPath instant
    (which must end in Z, as moto's interpreter requires; a bad one fails the execution with
    States.Runtime, as in AWS)."""
    if isinstance(wait, Timestamp):
        wait.string.eval(env=env)
        text = env.stack.pop()
        if not isinstance(text, str) or wait._from_timestamp_string(timestamp=text) is None:
            raise FailureEventException(wait._create_failure_event(env, text))
        # The exact instant: moto drops the fraction, which would wake a step held until
        # 09:00:00.5 at 09:00:00, before its own hold ends (and it would hold again, forever).
        return datetime.fromisoformat(text).astimezone(UTC)
    return now + timedelta(seconds=wait._get_wait_seconds(env=env))


def retry_interval(retrier: RetrierDecl, env: Environment) -> float | None:
    """Seconds before the next attempt when `retrier` applies to the error on the stack and has
    attempts left; None when it does not apply (`Skipped`) or is exhausted (`Failed`); the
    outcome is pushed on the stack either way, as moto's RetrierDecl does."""
    retrier.error_equals.eval(env)
    if not env.stack.pop():
        env.stack.append(RetrierOutcome.Skipped)
        return None
    retrier.max_attempts.eval(env=env)
    if env.stack.pop() == MaxAttemptsOutcome.EXHAUSTED:
        env.stack.append(RetrierOutcome.Failed)
        return None
    retrier.interval_seconds.eval(env=env)
    retrier.backoff_rate.eval(env=env)
    retrier.max_delay_seconds.eval(env=env)
    retrier.jitter_strategy.eval(env=env)
    seconds = float(env.stack.pop())
    env.stack.append(RetrierOutcome.Executed)
    return seconds


# The patches ------------------------------------------------------------------------------


def _wait_body(self: WaitFunction, env: Environment) -> None:
    key = execution_id(env)
    scheduler = _REGISTRY.scheduler_of_execution(key)
    if scheduler is None or key is None:
        _ORIGINAL["wait"](self, env)
        return
    due = wait_due(self, env, scheduler.clock.now())
    scheduler.sleep_until(key, due, env.is_running)


def _retrier_body(self: RetrierDecl, env: Environment) -> None:
    key = execution_id(env)
    scheduler = _REGISTRY.scheduler_of_execution(key)
    if scheduler is None or key is None:
        _ORIGINAL["retry"](self, env)
        return
    seconds = retry_interval(self, env)
    if seconds is not None:
        scheduler.sleep_until(key, scheduler.clock.now() + timedelta(seconds=seconds), env.is_running)


def _execution_start(self: Execution) -> None:
    scheduler = _REGISTRY.scheduler_of_machine(str(self.state_machine.arn))
    if scheduler is not None:
        self.start_date = scheduler.clock.now()
        with _REGISTRY.lock:
            _REGISTRY.executions[self.exec_arn] = scheduler
        scheduler.admit(self.exec_arn)
    _ORIGINAL["start"](self)


def _execution_stop(self: Execution, stop_date: datetime, error: str | None, cause: str | None) -> None:
    worker = self.exec_worker
    deadline = time.monotonic() + _STOP_WAIT_S
    # moto's thread makes the environment moments after the start: stopping before would fail.
    while worker is not None and worker.env is None and time.monotonic() < deadline:
        time.sleep(0.005)
    scheduler = _REGISTRY.scheduler_of_execution(self.exec_arn)
    _ORIGINAL["stop"](self, scheduler.clock.now() if scheduler else stop_date, error, cause)


def _worker_environment(self: ExecutionWorker) -> Environment:
    env: Environment = _ORIGINAL["environment"](self)
    key = str(self._evaluation_details.execution_details.arn)
    scheduler = _REGISTRY.scheduler_of_execution(key)
    if scheduler is not None:
        self.env = env  # stoppable while it waits for its turn
        scheduler.begin(key)
    return env


def _worker_logic(self: ExecutionWorker) -> None:
    key = str(self._evaluation_details.execution_details.arn)
    try:
        _ORIGINAL["logic"](self)
    except Exception:
        log.exception("execution %s ended with an interpreter error", key)
    finally:
        scheduler = _REGISTRY.scheduler_of_execution(key)
        if scheduler is not None:
            scheduler.finish(key)


def _terminated(self: BaseExecutionWorkerCommunication) -> None:
    _ORIGINAL["terminated"](self)
    scheduler = _REGISTRY.scheduler_of_execution(self.execution.exec_arn)
    if scheduler is not None:
        self.execution.stop_date = scheduler.clock.now()


def _state_changed(name: str) -> Callable[..., None]:
    def changed(self: Environment, *args: Any, **kwargs: Any) -> None:
        _ORIGINAL[name](self, *args, **kwargs)
        key = execution_id(self)
        scheduler = _REGISTRY.scheduler_of_execution(key)
        if scheduler is not None and key is not None:
            scheduler.recheck(key)

    return changed


def _event_timestamp() -> datetime:
    return process_clock().now()


def _start_execution(self: StepFunctionsParserBackend, *args: Any, **kwargs: Any) -> Any:
    execution = _ORIGINAL["start_execution"](self, *args, **kwargs)
    _settle_unless_invoking(execution.exec_arn)
    return execution


def _stop_execution(self: StepFunctionsParserBackend, execution_arn: str) -> Any:
    execution = _ORIGINAL["stop_execution"](self, execution_arn)
    _settle_unless_invoking(execution_arn)
    scheduler = _REGISTRY.scheduler_of_execution(execution_arn)
    if scheduler is not None and execution.stop_date is None:
        # Stopped from inside a handler: the execution ends when the request settles; the
        # answer still carries the stop date, as AWS's does.
        execution.stop_date = scheduler.clock.now()
    return execution


def _settle_unless_invoking(execution_arn: str) -> None:
    scheduler = _REGISTRY.scheduler_of_execution(execution_arn)
    if scheduler is not None and not invoking():
        scheduler.settle()


def _lambda_invoke(
    self: LambdaSimpleBackend,
    function_name: str,
    qualifier: str | None,
    body: Any,
    headers: Any,
    response_headers: dict[str, str],
) -> bytes | None:
    target = _REGISTRY.function(function_name)
    if target is None:
        result: bytes | None = _ORIGINAL["invoke"](
            self, function_name, qualifier, body, headers, response_headers
        )
        return result
    raw = body.decode() if isinstance(body, bytes) else body
    event = json.loads(raw) if raw else {}
    try:
        payload = json.dumps(target.invoke(target.logical_id, event))
    except InvocationError as exc:
        response_headers["x-amz-function-error"] = "Unhandled"
        payload = json.dumps(exc.lambda_payload())
    data = payload.encode()
    response_headers["Content-Length"] = str(len(data))
    return data


# Install and registration ------------------------------------------------------------------

# name -> (class, attribute, replacement)
_PATCHES: Final[dict[str, tuple[type, str, Any]]] = {
    "wait": (WaitFunction, "_eval_body", _wait_body),
    "retry": (RetrierDecl, "_eval_body", _retrier_body),
    "start": (Execution, "start", _execution_start),
    "stop": (Execution, "stop", _execution_stop),
    "environment": (ExecutionWorker, "_get_evaluation_environment", _worker_environment),
    "logic": (ExecutionWorker, "_execution_logic", _worker_logic),
    "terminated": (BaseExecutionWorkerCommunication, "terminated", _terminated),
    "set_stop": (Environment, "set_stop", _state_changed("set_stop")),
    "set_ended": (Environment, "set_ended", _state_changed("set_ended")),
    "set_error": (Environment, "set_error", _state_changed("set_error")),
    "set_timed_out": (Environment, "set_timed_out", _state_changed("set_timed_out")),
    "timestamp": (EventManager, "_get_current_timestamp", staticmethod(_event_timestamp)),
    "start_execution": (StepFunctionsParserBackend, "start_execution", _start_execution),
    "stop_execution": (StepFunctionsParserBackend, "stop_execution", _stop_execution),
    "invoke": (LambdaSimpleBackend, "invoke", _lambda_invoke),
}
# What each patched attribute was: the class's own attribute, or None when it was inherited.
_SAVED: dict[str, Any] = {}
# The callables the patches fall back to.
_ORIGINAL: dict[str, Callable[..., Any]] = {}


def _install() -> None:
    for name, (cls, attribute, replacement) in _PATCHES.items():
        if not hasattr(cls, attribute):
            raise LocalStackError(
                f"moto changed: {cls.__name__}.{attribute} is gone; infra/local/stepfunctions.py "
                "was written against moto 5.2.5"
            )
        _SAVED[name] = cls.__dict__.get(attribute)
        _ORIGINAL[name] = getattr(cls, attribute)
        setattr(cls, attribute, replacement)


def _uninstall() -> None:
    for name, (cls, attribute, _) in _PATCHES.items():
        saved = _SAVED.pop(name, None)
        if saved is None:
            delattr(cls, attribute)
        else:
            setattr(cls, attribute, saved)
    _ORIGINAL.clear()


class LocalStepFunctions:
    """One stack's state machines and functions, wired to moto's interpreter."""

    def __init__(
        self,
        scheduler: Scheduler,
        invoke: Invoke,
        *,
        state_machine_arns: list[str],
        functions: Mapping[str, str],  # function name -> logical id
    ) -> None:
        self.scheduler = scheduler
        self._invoke = invoke
        self._machines = list(state_machine_arns)
        self._functions = dict(functions)
        self._attached = False

    def attach(self) -> None:
        with _REGISTRY.lock:
            if self._attached:
                return
            taken = sorted(set(self._functions) & set(_REGISTRY.functions))
            if taken:
                raise LocalStackError(f"another local stack already runs functions named {taken}")
            if _REGISTRY.attached == 0:
                _install()
            _REGISTRY.attached += 1
            for arn in self._machines:
                _REGISTRY.state_machines[arn] = self.scheduler
            for name, logical_id in self._functions.items():
                _REGISTRY.functions[name] = _Target(self._invoke, logical_id)
            self._attached = True

    def detach(self) -> None:
        """Forget this stack; the last stack to go restores moto. Executions still asleep stay
        asleep (their threads are daemons): nothing of this stack runs after it stops."""
        with _REGISTRY.lock:
            if not self._attached:
                return
            for arn in self._machines:
                _REGISTRY.state_machines.pop(arn, None)
            for name in self._functions:
                _REGISTRY.functions.pop(name, None)
            for arn in [a for a, s in _REGISTRY.executions.items() if s is self.scheduler]:
                _REGISTRY.executions.pop(arn)
            _REGISTRY.attached -= 1
            if _REGISTRY.attached == 0:
                _uninstall()
            self._attached = False
