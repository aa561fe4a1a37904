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

- Callback tasks (`.waitForTaskToken`): the task's Lambda runs as above, then the execution
  gives the turn back and sleeps on the virtual clock until `entered + TimeoutSeconds` (the
  clock stands still while a state runs, so "entered" is the now at which it sleeps), or until
  its token is answered, whichever comes first. The sleeper is listed by `GET /_local/clock`
  like a Wait. `SendTaskSuccess` / `SendTaskFailure` for a local token records the outcome,
  queues the sleeper and, from outside a handler, settles before returning (the execution has
  moved on when the call returns); from inside a handler (the stack's invoke lock is held) the
  execution resumes when the request around it settles. An answer given before the task starts
  waiting (a handler that answers its own token) is taken at once. Past the due time the task
  fails with `States.Timeout` (Retry and Catch apply). With `HeartbeatSeconds`, the sleeper is
  also due at the last heartbeat (or entry) + HeartbeatSeconds; `SendTaskHeartbeat` moves it on.
  A token is answered once: answering it again, or after its task timed out or its execution
  ended, raises `TaskTimedOut` as AWS does; a token no local execution issued is moto's
  (`InvalidToken`). `SendTaskFailure` keeps its `cause` (moto's response drops it).
  The per-state real-time TimeoutSeconds wait of moto's interpreter is replaced by an unbounded
  one for local executions: a state's timeout is counted only on the virtual clock.

- Distributed Map (`ProcessorConfig.Mode: DISTRIBUTED`; map_runs.py): each item is a child
  execution of its own for the scheduler, keyed by its ARN (also its `$$.Execution.Id`),
  admitted in index order, at most MaxConcurrency in flight, run one at a time while the map's
  execution gives the turn back. A Wait or Retry backoff inside an item is that item's own
  sleeper: several items of one map may sleep at once and wake in due-time order. An item's
  history is dropped when it ends; more failed items than ToleratedFailureCount (default 0)
  fail the map with `States.ExceedToleratedFailureThreshold` (moto alone never fails it).
  A callback task inside an item waits as that item; an answer to its token wakes that item.
  Child executions are not listed or described by the Step Functions API.

Not emulated: Wait or Retry or callback waits in two branches of a Parallel or an inline Map at
once fail the execution (UnsupportedConcurrency); TimeoutSeconds on a state that is not a callback
task never fires (virtual time does not move while it runs); a missed heartbeat reports
`States.Timeout` (AWS: `States.HeartbeatTimeout`), as moto does; Lambda timeouts are only
logged, and Lambda service errors (`Lambda.ServiceException`, ...) never happen; execution logs
are not delivered to CloudWatch Logs; `$$.State.EnteredTime` is real time (history timestamps,
start and stop dates are virtual).
"""

from __future__ import annotations

import copy
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.core.exceptions import AWSError
from moto.core.responses import ActionResult, EmptyResult
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.retry.max_attempts_decl import MaxAttemptsOutcome
from moto.stepfunctions.parser.asl.component.common.retry.retrier_decl import RetrierDecl
from moto.stepfunctions.parser.asl.component.common.retry.retrier_outcome import RetrierOutcome
from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.distributed_iteration_component import (  # noqa: E501
    DistributedIterationComponent,
    DistributedIterationComponentEvalInput,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_callback as callback_task,
)
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp import Timestamp
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction
from moto.stepfunctions.parser.asl.eval.callback.callback import (
    CallbackConsumerError,
    CallbackConsumerTimeout,
    CallbackEndpoint,
    CallbackOutcome,
    CallbackOutcomeFailure,
    CallbackOutcomeSuccess,
    CallbackOutcomeTimedOut,
    HeartbeatEndpoint,
    HeartbeatTimedOut,
)
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager
from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication, Execution
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
from moto.stepfunctions.parser.models import StepFunctionsParserBackend
from moto.stepfunctions.parser.utils import TMP_THREADS
from moto.stepfunctions.responses import StepFunctionResponse

from baton.clock import process_clock
from infra.local.exceptions import InvocationError, LocalStackError
from infra.local.map_runs import MapRun
from infra.local.runtime import invoking
from infra.local.scheduler import Scheduler

log = logging.getLogger(__name__)


class _AbsentPathIsNoError(logging.Filter):
    """moto's interpreter logs, at ERROR, every JSONPath it does not find, also where a Choice
    asks `IsPresent` (the journeys' Start and turn choices do so on every run): that is the
    answer, not an error. A path that is really missing still fails the execution, in its history."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "NoSuchJsonPathError" not in record.getMessage()


logging.getLogger("moto.stepfunctions.parser.asl.component.eval_component").addFilter(_AbsentPathIsNoError())

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


# Callback tasks ---------------------------------------------------------------------------

# What AWS answers for a token whose task is over (answered, timed out, execution ended).
_TASK_OVER: Final = "Task Timed Out: 'Provided task does not exist anymore'"
# moto 5.2.5's parser errors `TaskTimedOut` and `InvalidOutput` reach the client with an empty
# error code (they set `code`, the JSON serializer reads `TYPE`): raise AWSError with AWS's codes.
_TASK_TIMED_OUT: Final = "TaskTimedOut"
_INVALID_OUTPUT: Final = "InvalidOutput"
# Held while a token is checked and answered, so it is answered once.
_ANSWERING: Final = threading.Lock()
# Callback id -> (scheduler key, environment) of the callback task waiting on it now.
_WAITING: Final[dict[str, tuple[str, Environment]]] = {}


def _heartbeat_pending(heartbeat: HeartbeatEndpoint | None) -> bool:
    # moto keeps the "a heartbeat arrived" flag private; 5.2.5 names it `_next_heartbeat_event`.
    return heartbeat is not None and heartbeat._next_heartbeat_event.is_set()


def await_callback(
    scheduler: Scheduler,
    key: str,
    env: Environment,
    timeout_seconds: float,
    endpoint: CallbackEndpoint,
    heartbeat: HeartbeatEndpoint | None,
) -> CallbackOutcome | CallbackConsumerError:
    """Sleep on the virtual clock until the token is answered (its outcome), the timeout or the
    heartbeat falls due (`CallbackOutcomeTimedOut`, `HeartbeatTimedOut`), or the execution
    stops. A timed-out endpoint is marked, so a late answer raises TaskTimedOut."""
    entered = scheduler.clock.now()
    deadline = entered + timedelta(seconds=timeout_seconds)
    beat = timedelta(seconds=heartbeat._heartbeat_seconds) if heartbeat is not None else None
    last_beat = entered

    def waiting() -> bool:
        return env.is_running() and endpoint.get_outcome() is None and not _heartbeat_pending(heartbeat)

    while True:
        due = deadline if beat is None else min(deadline, last_beat + beat)
        scheduler.sleep_until(key, due, waiting)
        with _ANSWERING:
            outcome = endpoint.get_outcome()
            if outcome is not None:
                return outcome
            if not env.is_running():
                # Stopped while it waited: end the task quietly (an error here would be recorded
                # as the execution's failure); the execution ends ABORTED, as after a Wait.
                endpoint.report(CallbackConsumerTimeout())
                return CallbackOutcomeSuccess(callback_id=endpoint.callback_id, output="null")
            now = scheduler.clock.now()
            if heartbeat is not None and _heartbeat_pending(heartbeat):
                heartbeat._next_heartbeat_event.clear()
                last_beat = now
                continue
            endpoint.report(CallbackConsumerTimeout())
            if now < deadline:
                return HeartbeatTimedOut()
            return CallbackOutcomeTimedOut(callback_id=endpoint.callback_id)


@dataclass(frozen=True)
class _Callback:
    scheduler: Scheduler
    key: str  # the execution ARN
    env: Environment
    endpoint: CallbackEndpoint


def _local_callback(backend: StepFunctionsParserBackend, token: str) -> _Callback | None:
    """The callback a local execution issued `token` for, or None (not ours: moto answers)."""
    for execution in backend._get_executions():
        scheduler = _REGISTRY.scheduler_of_execution(execution.exec_arn)
        worker = execution.exec_worker
        env = worker.env if worker is not None else None
        if scheduler is None or env is None:
            continue
        endpoint = env.callback_pool_manager.get(token)
        if endpoint is not None:
            # A Distributed Map's item waits as a unit of its own, on a frame of its own.
            key, waiting_env = _WAITING.get(token, (str(execution.exec_arn), env))
            return _Callback(scheduler, key, waiting_env, endpoint)
    return None


def _answer(callback: _Callback, outcome: CallbackOutcome | None) -> None:
    """Record an answer (None: a heartbeat) once, wake the execution, and settle unless inside
    a handler. Raises TaskTimedOut when the task is over."""
    endpoint = callback.endpoint
    with _ANSWERING:
        if (
            endpoint.get_outcome() is not None
            or endpoint.consumer_error is not None
            or not callback.env.is_running()
        ):
            raise AWSError(_TASK_OVER, exception_type=_TASK_TIMED_OUT)
        if outcome is None:
            endpoint.notify_heartbeat()
        else:
            endpoint.notify(outcome)
    callback.scheduler.recheck(callback.key)
    _settle_unless_invoking(callback.key)


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


def _callback_wait(
    self: callback_task.StateTaskServiceCallback,
    env: Environment,
    timeout_seconds: int,
    callback_endpoint: CallbackEndpoint,
    heartbeat_endpoint: HeartbeatEndpoint | None,
) -> Any:
    key = execution_id(env)
    scheduler = _REGISTRY.scheduler_of_execution(key)
    if scheduler is None or key is None:
        return _ORIGINAL["callback_wait"](self, env, timeout_seconds, callback_endpoint, heartbeat_endpoint)
    _WAITING[callback_endpoint.callback_id] = (key, env)
    try:
        return await_callback(scheduler, key, env, timeout_seconds, callback_endpoint, heartbeat_endpoint)
    finally:
        _WAITING.pop(callback_endpoint.callback_id, None)


def _evaluate_with_timeout(self: ExecutionState, env: Environment) -> None:
    """moto 5.2.5's `ExecutionState._evaluate_with_timeout`, but the state's thread is awaited
    without a real-time limit: a local execution's timeouts are on the virtual clock."""
    if _REGISTRY.scheduler_of_execution(execution_id(env)) is None:
        _ORIGINAL["evaluate_with_timeout"](self, env)
        return
    self.timeout.eval(env=env)
    env.stack.pop()  # TimeoutSeconds: counted on the virtual clock by callback tasks
    frame: Environment = env.open_frame()
    frame.states.reset(input_value=env.states.get_input())
    frame.stack = copy.deepcopy(env.stack)
    outputs: list[Any] = []
    errors: list[Exception | None] = [None]
    done = threading.Event()

    def run() -> None:
        try:
            self._eval_execution(frame)
            outputs.extend(frame.stack)
        except Exception as exc:  # handed to the state's Retry/Catch, as moto does
            errors.append(exc)
        done.set()

    thread = threading.Thread(target=run, daemon=True)
    TMP_THREADS.append(thread)
    thread.start()
    done.wait()
    frame.set_ended()
    env.close_frame(frame)
    error = errors.pop()
    if error:
        raise error
    output = outputs.pop()
    env.stack.append(output)
    if not self._is_language_query_jsonpath():
        env.states.set_result(output)
    if self.assign_decl:
        self.assign_decl.eval(env=env)
    if self.result_selector:
        self.result_selector.eval(env=env)
    if self.result_path:
        self.result_path.eval(env)
    else:
        env.states.reset(input_value=env.stack.pop())


def _map_run(
    self: DistributedIterationComponent, env: Environment, eval_input: DistributedIterationComponentEvalInput
) -> None:
    """A Distributed Map's items, each a unit of the scheduler (see map_runs.py)."""
    key = execution_id(env)
    scheduler = _REGISTRY.scheduler_of_execution(key)
    if scheduler is None or key is None:
        _ORIGINAL["map_run"](self, env, eval_input)
        return
    items = env.stack.pop()

    def register(child: str) -> None:
        with _REGISTRY.lock:
            _REGISTRY.executions[child] = scheduler

    def forget(child: str) -> None:
        with _REGISTRY.lock:
            _REGISTRY.executions.pop(child, None)

    run = MapRun(self, env, eval_input, items, scheduler=scheduler, key=key, register=register, forget=forget)
    env.stack.append(run.evaluate())


def _send_task_success(self: StepFunctionsParserBackend, task_token: str, outcome: str) -> Any:
    callback = _local_callback(self, task_token)
    if callback is None:
        return _ORIGINAL["send_task_success"](self, task_token, outcome)
    try:
        json.loads(outcome)
    except (TypeError, ValueError) as exc:
        raise AWSError(f"the output is not JSON: {exc}", exception_type=_INVALID_OUTPUT) from exc
    _answer(callback, CallbackOutcomeSuccess(callback_id=task_token, output=outcome))
    return None


def _send_task_failure(
    self: StepFunctionsParserBackend, task_token: str, error: str | None = None, cause: str | None = None
) -> Any:
    callback = _local_callback(self, task_token)
    if callback is None:
        return _ORIGINAL["send_task_failure"](self, task_token, error=error, cause=cause)
    _answer(callback, CallbackOutcomeFailure(callback_id=task_token, error=error, cause=cause))
    return None


def _send_task_heartbeat(self: StepFunctionsParserBackend, task_token: str) -> Any:
    callback = _local_callback(self, task_token)
    if callback is None:
        return _ORIGINAL["send_task_heartbeat"](self, task_token)
    _answer(callback, None)
    return None


def _send_task_failure_response(self: StepFunctionResponse) -> ActionResult:
    """moto's response drops `cause`: pass it on to the executing backend."""
    backend = self.stepfunction_backend
    if not isinstance(backend, StepFunctionsParserBackend):
        result: ActionResult = _ORIGINAL["send_task_failure_response"](self)
        return result
    backend.send_task_failure(
        self._get_param("taskToken"), error=self._get_param("error"), cause=self._get_param("cause")
    )
    return EmptyResult()


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
    "callback_wait": (callback_task.StateTaskServiceCallback, "_eval_wait_for_task_token", _callback_wait),
    "evaluate_with_timeout": (ExecutionState, "_evaluate_with_timeout", _evaluate_with_timeout),
    "map_run": (DistributedIterationComponent, "_map_run", _map_run),
    "send_task_success": (StepFunctionsParserBackend, "send_task_success", _send_task_success),
    "send_task_failure": (StepFunctionsParserBackend, "send_task_failure", _send_task_failure),
    "send_task_heartbeat": (StepFunctionsParserBackend, "send_task_heartbeat", _send_task_heartbeat),
    "send_task_failure_response": (StepFunctionResponse, "send_task_failure", _send_task_failure_response),
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
