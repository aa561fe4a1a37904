"""What a failing handler looks like to its caller in local mode: the Lambda error payload, with
`errorType` = the exception's class name (what Step Functions' Retry and Catch match)."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from typing import Any

import pytest

from infra.local.deploy import LocalFunction
from infra.local.exceptions import InvocationError
from infra.local.runtime import LambdaRuntime, invoking

MODULE = "fake_failing_handlers"


class Throttled(Exception):
    """Named as Baton names its retryable errors."""


Throttled.__name__ = "Baton.Throttled"


@pytest.fixture
def runtime(monkeypatch: pytest.MonkeyPatch) -> Iterator[LambdaRuntime]:
    module = types.ModuleType(MODULE)
    seen: list[bool] = []

    def throttled(event: Any, context: Any) -> None:
        raise Throttled("slow down")

    def broken(event: Any, context: Any) -> None:
        raise KeyError("contact_id")

    def inside(event: Any, context: Any) -> bool:
        seen.append(invoking())
        return seen[-1]

    module.throttled = throttled  # type: ignore[attr-defined]
    module.broken = broken  # type: ignore[attr-defined]
    module.inside = inside  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, MODULE, module)
    functions = {
        name: LocalFunction(
            logical_id=name,
            name=f"unit-{name}",
            arn=f"arn:aws:lambda:us-east-1:123456789012:function:unit-{name}",
            handler=handler,
            environment={},
        )
        for name, handler in {
            "Throttled": f"{MODULE}.throttled",
            "Broken": f"{MODULE}.broken",
            "Inside": f"{MODULE}.inside",
            "NoModule": "no_such_module_anywhere.handler",
        }.items()
    }
    started = LambdaRuntime(functions, region="us-east-1", on_cold_start=lambda: None)
    yield started
    started.close()  # give the process its environment back


def test_error_type_is_the_exception_class_name_as_lambda_reports_it(runtime: LambdaRuntime) -> None:
    with pytest.raises(InvocationError) as raised:
        runtime.invoke("Throttled", {})

    payload = raised.value.lambda_payload()
    assert payload["errorType"] == "Baton.Throttled"
    assert payload["errorMessage"] == "slow down"


def test_stack_trace_shows_the_handler_not_the_local_runtime(runtime: LambdaRuntime) -> None:
    with pytest.raises(InvocationError) as raised:
        runtime.invoke("Broken", {})

    trace = "".join(raised.value.stack_trace)
    assert raised.value.error_type == "KeyError"
    assert "raise KeyError" in trace
    assert "infra/local/runtime.py" not in trace


def test_a_handler_that_cannot_be_imported_is_a_runtime_error(runtime: LambdaRuntime) -> None:
    with pytest.raises(InvocationError) as raised:
        runtime.invoke("NoModule", {})

    assert raised.value.error_type == "Runtime.ImportModuleError"


def test_the_runtime_knows_when_a_thread_is_inside_a_handler(runtime: LambdaRuntime) -> None:
    assert runtime.invoke("Inside", {}) is True
    assert invoking() is False
