"""The local Lambda runtime: each function runs with its own environment, a switch between
functions is a cold start, and failures come back as `InvocationError`."""

from __future__ import annotations

import os
import subprocess
import sys
import types
from collections.abc import Iterator
from typing import Any

import pytest

from baton import bootstrap
from infra.local.deploy import LocalFunction
from infra.local.exceptions import FunctionNotFound, InvocationError
from infra.local.runtime import LambdaRuntime, invoking, running_handler

MODULE = "fake_local_handlers"


def _function(logical_id: str, handler: str, **env: str) -> LocalFunction:
    return LocalFunction(
        logical_id=logical_id,
        name=f"baton-{logical_id}",
        arn=f"arn:aws:lambda:us-east-1:123456789012:function:baton-{logical_id}",
        handler=f"{MODULE}.{handler}",
        environment=env,
        memory_mb=512,
        timeout_s=15,
    )


@pytest.fixture
def handlers(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    module = types.ModuleType(MODULE)

    def show(event: dict[str, Any], context: Any) -> dict[str, Any]:
        event["mutated"] = True
        return {
            "table": os.environ.get("BATON_CONTACTS_TABLE"),
            "function": os.environ["AWS_LAMBDA_FUNCTION_NAME"],
            "context": [context.function_name, context.memory_limit_in_mb, context.invoked_function_arn],
            "remaining_ms": context.get_remaining_time_in_millis(),
            "request_id": context.aws_request_id,
        }

    @bootstrap.metrics.log_metrics
    def count(event: Any, context: Any) -> None:
        for _ in range(event["sends"]):
            bootstrap.metrics.add_metric(name="MessagesSent", unit="Count", value=1)

    def fail(event: Any, context: Any) -> None:
        raise ValueError("nope")

    def not_json(event: Any, context: Any) -> object:
        return object()

    module.show = show  # type: ignore[attr-defined]
    module.count = count  # type: ignore[attr-defined]
    module.fail = fail  # type: ignore[attr-defined]
    module.not_json = not_json  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, MODULE, module)
    monkeypatch.delenv("BATON_CONTACTS_TABLE", raising=False)
    return module


@pytest.fixture
def cold_starts() -> list[str]:
    return []


@pytest.fixture
def runtime(handlers: types.ModuleType, cold_starts: list[str]) -> Iterator[LambdaRuntime]:
    functions = {
        "Public": _function("Public", "show", BATON_CONTACTS_TABLE="contacts-a"),
        "Private": _function("Private", "show", BATON_CONTACTS_TABLE="contacts-b"),
        "Failing": _function("Failing", "fail"),
        "Counting": _function("Counting", "count", POWERTOOLS_METRICS_DISABLED="true"),
        "NotJson": _function("NotJson", "not_json"),
        "Missing": _function("Missing", "nowhere"),
    }
    started = LambdaRuntime(functions, region="us-east-1", on_cold_start=lambda: cold_starts.append("cold"))
    yield started
    started.close()


def test_each_function_sees_its_own_environment_and_context(runtime: LambdaRuntime) -> None:
    public = runtime.invoke("Public", {})
    private = runtime.invoke("Private", {})

    assert (public["table"], public["function"]) == ("contacts-a", "baton-Public")
    assert (private["table"], private["function"]) == ("contacts-b", "baton-Private")
    assert public["context"] == [
        "baton-Public",
        512,
        "arn:aws:lambda:us-east-1:123456789012:function:baton-Public",
    ]
    assert 14_000 < public["remaining_ms"] <= 15_000
    assert public["request_id"] != private["request_id"]


def test_switching_function_is_a_cold_start_and_repeating_one_is_warm(
    runtime: LambdaRuntime, cold_starts: list[str]
) -> None:
    for name in ("Public", "Public", "Private", "Private", "Public"):
        runtime.invoke(name, {})

    assert len(cold_starts) == 3


def test_closing_the_runtime_gives_the_environment_back(runtime: LambdaRuntime) -> None:
    runtime.invoke("Public", {})
    assert os.environ["BATON_CONTACTS_TABLE"] == "contacts-a"

    runtime.close()

    assert "BATON_CONTACTS_TABLE" not in os.environ
    assert "AWS_LAMBDA_FUNCTION_NAME" not in os.environ


def test_handler_gets_a_copy_of_the_event(runtime: LambdaRuntime) -> None:
    event: dict[str, Any] = {"a": 1}

    runtime.invoke("Public", event)

    assert event == {"a": 1}


@pytest.mark.parametrize(
    ("function", "message"),
    [("Failing", "ValueError: nope"), ("NotJson", "not JSON"), ("Missing", "cannot load handler")],
)
def test_failures_come_back_as_invocation_errors(runtime: LambdaRuntime, function: str, message: str) -> None:
    with pytest.raises(InvocationError, match=message):
        runtime.invoke(function, {})


def test_unknown_function_is_reported(runtime: LambdaRuntime) -> None:
    with pytest.raises(FunctionNotFound):
        runtime.invoke("Nobody", {})


def test_a_handler_run_outside_the_runtime_counts_as_invoking_until_it_returns_or_raises() -> None:
    assert not invoking()
    with running_handler():
        with running_handler():  # a handler calling another in-process
            assert invoking()
        assert invoking()
    assert not invoking()
    with pytest.raises(ValueError, match="nope"), running_handler():
        raise ValueError("nope")
    assert not invoking()


def test_metrics_disabled_locally_are_never_printed_however_many_invocations_count(
    runtime: LambdaRuntime, capsys: pytest.CaptureFixture[str]
) -> None:
    # Powertools keeps a disabled flush's values, and prints them once a metric has 100: in one
    # invocation (a campaign batch of 100 sends) or over many
    runtime.invoke("Counting", {"sends": 150})
    for _ in range(60):
        runtime.invoke("Counting", {"sends": 1})

    assert capsys.readouterr().out == ""
    assert bootstrap.metrics.metric_set == {}


def test_an_invocation_that_adds_no_metric_writes_no_warning_to_stderr() -> None:
    # in a process of its own: the tests' own warning filters would hide it here
    script = (
        "from baton import bootstrap\n"
        "@bootstrap.metrics.log_metrics\n"
        "def handler(event, context):\n"
        "    return None\n"
        "handler({}, None)\n"
    )
    ran = subprocess.run(  # noqa: S603 (this interpreter, a fixed script)
        [sys.executable, "-W", "default", "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "POWERTOOLS_METRICS_DISABLED": "true"},
    )

    assert ran.stderr == ""
