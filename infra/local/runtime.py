"""The local Lambda runtime: a template's functions run in this process, one at a time.

Environment: Lambda gives each function its own process; here every function shares one, and
`os.environ` is process-global. So invocations are serialised by one process-wide lock, and
before each one the function's resolved environment (plus what Lambda itself sets) is
installed. Switching to another function is a cold start: `baton.settings.get_settings` and
`baton.aws`'s client caches and Powertools' parameter caches are cleared, so the handler reads
its own settings. Invoking the same function again is a warm start, as in Lambda. Handler
modules are imported once per process (module-level state is shared, as in a warm container):
whatever differs per function must come from settings, which Baton's style requires anyway.

Time: each invocation installs the stack's clock as Baton's process clock (`baton.clock.
use_clock`), so handlers read the virtual time; a cold start rebuilds `bootstrap.services()`.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Final

from aws_lambda_powertools.utilities import parameters

from baton import bootstrap
from baton.clock import Clock, use_clock
from infra.local.deploy import LocalFunction
from infra.local.exceptions import FunctionNotFound, InvocationError

log = logging.getLogger(__name__)

Handler = Callable[[Any, Any], Any]

# One for the process: the environment is process-global, whichever stack is invoking.
_INVOKE_LOCK: Final = threading.RLock()
# Which threads are inside a handler right now (a handler's own AWS calls must not wait for
# executions to settle: those executions wait for the lock this thread holds).
_INVOKING: Final = threading.local()


def invoking() -> bool:
    """True on a thread that is running a handler."""
    return bool(getattr(_INVOKING, "depth", 0))


@contextmanager
def running_handler() -> Iterator[None]:
    """Marks this thread as running a handler while the block runs (see `invoking`): what runs a
    handler outside `LambdaRuntime` (a test's stand-in for a function) must say so too, or the
    handler's own Step Functions calls would wait for the execution that is calling it."""
    _INVOKING.depth = getattr(_INVOKING, "depth", 0) + 1
    try:
        yield
    finally:
        _INVOKING.depth -= 1


@dataclass
class LambdaContext:
    """What Lambda passes as `context` (the attributes handlers and Powertools read)."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    timeout_s: int
    function_version: str = "$LATEST"
    identity: Any = None
    client_context: Any = None
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_s

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"{time.strftime('%Y/%m/%d')}/[$LATEST]local"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def reset_baton_caches() -> None:
    """A cold start for Baton's code: settings, clients, cached secrets and the services built
    from them (with the process clock) are made anew."""
    bootstrap.reset()  # settings, clients, secrets and services
    parameters.clear_caches()  # type: ignore[no-untyped-call]


class _ProcessEnvironment:
    """Installs one function's environment at a time and remembers what it replaced."""

    def __init__(self) -> None:
        self.owner: object | None = None
        self._saved: dict[str, str | None] = {}

    def install(self, owner: object, variables: Mapping[str, str]) -> bool:
        """True when this is a switch (a cold start)."""
        if owner == self.owner:
            return False
        self.restore()
        for key, value in variables.items():
            self._saved.setdefault(key, os.environ.get(key))
            os.environ[key] = value
        self.owner = owner
        return True

    def restore(self) -> None:
        for key, value in self._saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved.clear()
        self.owner = None


_ENVIRONMENT: Final = _ProcessEnvironment()


class LambdaRuntime:
    """Runs the functions of one deployment by logical id."""

    def __init__(
        self,
        functions: Mapping[str, LocalFunction],
        *,
        region: str,
        on_cold_start: Callable[[], None] = reset_baton_caches,
        after_invoke: Callable[[], None] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._functions = functions
        self._region = region
        self._on_cold_start = on_cold_start
        self._after_invoke = after_invoke
        self._clock = clock
        self._handlers: dict[str, Handler] = {}

    def invoke(self, logical_id: str, event: Any) -> Any:
        """Call the function's handler with a JSON copy of `event`; return its JSON answer."""
        function = self._functions.get(logical_id)
        if function is None:
            raise FunctionNotFound(f"no function {logical_id!r} in this deployment")
        payload = json.loads(json.dumps(event))
        with _INVOKE_LOCK:
            if self._clock is not None:
                use_clock(self._clock)
            if _ENVIRONMENT.install((id(self), logical_id), self._environment(function)):
                self._on_cold_start()
            handler = self._handler(function)
            context = LambdaContext(
                function_name=function.name,
                invoked_function_arn=function.arn,
                memory_limit_in_mb=function.memory_mb,
                aws_request_id=str(uuid.uuid4()),
                timeout_s=function.timeout_s,
            )
            started = time.monotonic()
            try:
                with running_handler():
                    result = handler(payload, context)
            except Exception as exc:
                log.exception("%s (%s) raised", function.logical_id, function.handler)
                raise InvocationError(
                    f"{function.logical_id} raised {type(exc).__name__}: {exc}",
                    # What the Python Lambda runtime reports: Step Functions' Retry and Catch
                    # match `errorType` against ErrorEquals.
                    error_type=type(exc).__name__,
                    error_message=str(exc),
                    # The handler's frames, not this runtime's (as Lambda reports them).
                    stack_trace=tuple(
                        traceback.format_tb(exc.__traceback__.tb_next if exc.__traceback__ else None)
                    ),
                ) from exc
            finally:
                elapsed = time.monotonic() - started
                if elapsed > function.timeout_s:
                    log.warning(
                        "%s took %.1f s: Lambda would have stopped it at %d s",
                        function.logical_id,
                        elapsed,
                        function.timeout_s,
                    )
                if self._after_invoke is not None:
                    self._after_invoke()
        try:
            return json.loads(json.dumps(result))
        except (TypeError, ValueError) as exc:
            raise InvocationError(
                f"{function.logical_id} answered something that is not JSON: {exc}",
                error_type="Runtime.MarshalError",
            ) from exc

    def close(self) -> None:
        """Give the process its environment back, if this runtime's function holds it."""
        with _INVOKE_LOCK:
            owner = _ENVIRONMENT.owner
            if isinstance(owner, tuple) and owner[0] == id(self):
                _ENVIRONMENT.restore()

    def _environment(self, function: LocalFunction) -> dict[str, str]:
        return {
            **function.environment,
            # What the Lambda service sets for every function.
            "AWS_REGION": self._region,
            "AWS_DEFAULT_REGION": self._region,
            "AWS_LAMBDA_FUNCTION_NAME": function.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.name}",
            "_HANDLER": function.handler,
            # No X-Ray daemon here.
            "POWERTOOLS_TRACE_DISABLED": "true",
        }

    def _handler(self, function: LocalFunction) -> Handler:
        if function.logical_id not in self._handlers:
            module_name, _, attribute = function.handler.rpartition(".")
            try:
                module = importlib.import_module(module_name)
                handler = getattr(module, attribute)
            except (ImportError, AttributeError) as exc:
                raise InvocationError(
                    f"{function.logical_id}: cannot load handler {function.handler!r}: {exc}",
                    error_type=(
                        "Runtime.ImportModuleError"
                        if isinstance(exc, ImportError)
                        else "Runtime.HandlerNotFound"
                    ),
                ) from exc
            self._handlers[function.logical_id] = handler
        return self._handlers[function.logical_id]
