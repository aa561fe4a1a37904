"""Callback tasks (`.waitForTaskToken`) on the local stack's virtual clock, with a hand-written
template whose step handler is test-only (local_stack_fixture/callback_*): a waiting task gives
the turn back, an answer resumes it before the call returns, its TimeoutSeconds and
HeartbeatSeconds fall due only when the clock is advanced, and a token is answered once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from baton.clock import from_iso, to_iso
from infra.http_client import LocalClient
from infra.local import LocalStack
from tests.e2e.local_stack_fixture.callback_handlers import calls, token_of

pytestmark = pytest.mark.e2e

TEMPLATE = Path(__file__).parent / "local_stack_fixture" / "callback_template.json"
FUNCTION = "CallbackStepFunction6E7F8091"
HOUR = timedelta(hours=1)


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(json.loads(TEMPLATE.read_text()), prefix="callbacks") as started:
        yield started


@pytest.fixture(scope="module")
def client(stack: LocalStack) -> LocalClient:
    return LocalClient(stack.base_url, stack.token)


def _start(stack: LocalStack, sfn: Any, machine: str, name: str) -> str:
    arn = stack.deployment.state_machine(machine).arn
    payload = {"contact_id": f"c-{name}", "steps": {}}
    execution: str = sfn.start_execution(stateMachineArn=arn, name=name, input=json.dumps(payload))[
        "executionArn"
    ]
    return execution


def _advance(client: LocalClient, by: str) -> None:
    resp = client.post("/_local/clock", json_body={"advance": by})
    assert resp.status == 200, resp.text


def _waiting(client: LocalClient) -> dict[str, str]:
    """execution ARN -> until, from GET /_local/clock."""
    return {w["execution"]: w["until"] for w in client.get("/_local/clock").json()["waiting"]}


def _described(sfn: Any, execution: str) -> tuple[str, dict[str, Any]]:
    described = sfn.describe_execution(executionArn=execution)
    return described["status"], json.loads(described.get("output") or "{}")


def _error_code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    code: str = excinfo.value.response["Error"]["Code"]
    return code


def test_a_callback_task_waits_and_send_task_success_resumes_it_before_returning(
    stack: LocalStack, client: LocalClient, sfn: Any
) -> None:
    started_at = stack.clock.now()

    execution = _start(stack, sfn, "Callback-await", "success-1")

    (entered,) = calls("await", execution)
    assert entered["at"] == to_iso(started_at)
    assert entered["event"]["token"] == token_of(execution)
    assert _described(sfn, execution)[0] == "RUNNING"
    assert _waiting(client)[execution] == to_iso(started_at + HOUR)
    assert calls("after", execution) == []

    answer = {"outcome": "completed", "handoff_outcome": "reached"}
    sfn.send_task_success(taskToken=token_of(execution), output=json.dumps(answer))

    status, output = _described(sfn, execution)
    assert status == "SUCCEEDED"
    assert output["steps"]["await"] == answer
    (after,) = calls("after", execution)
    assert after["event"]["awaited"] == answer
    assert after["at"] == to_iso(started_at)  # the clock did not move
    assert execution not in _waiting(client)


def test_a_token_is_answered_once(stack: LocalStack, sfn: Any) -> None:
    execution = _start(stack, sfn, "Callback-await", "twice-1")
    token = token_of(execution)
    sfn.send_task_success(taskToken=token, output=json.dumps({"outcome": "completed"}))

    with pytest.raises(ClientError) as again:
        sfn.send_task_success(taskToken=token, output=json.dumps({"outcome": "completed"}))
    with pytest.raises(ClientError) as failed_after:
        sfn.send_task_failure(taskToken=token, error="Late")

    assert _error_code(again) == "TaskTimedOut"
    assert _error_code(failed_after) == "TaskTimedOut"
    assert len(calls("after", execution)) == 1


def test_an_unknown_token_is_invalid(sfn: Any) -> None:
    with pytest.raises(ClientError) as unknown:
        sfn.send_task_success(taskToken="no-such-token", output="{}")

    assert _error_code(unknown) == "InvalidToken"


def test_output_that_is_not_json_is_refused_and_the_task_keeps_waiting(
    stack: LocalStack, client: LocalClient, sfn: Any
) -> None:
    execution = _start(stack, sfn, "Callback-await", "bad-output-1")

    with pytest.raises(ClientError) as refused:
        sfn.send_task_success(taskToken=token_of(execution), output="{not json")

    assert _error_code(refused) == "InvalidOutput"
    assert execution in _waiting(client)
    sfn.send_task_success(taskToken=token_of(execution), output="{}")
    assert _described(sfn, execution)[0] == "SUCCEEDED"


def test_the_timeout_falls_due_on_the_virtual_clock_and_the_catch_path_runs(
    stack: LocalStack, client: LocalClient, sfn: Any
) -> None:
    started_at = stack.clock.now()
    execution = _start(stack, sfn, "Callback-await", "timeout-1")

    _advance(client, "59m")
    assert _described(sfn, execution)[0] == "RUNNING"
    assert calls("after", execution) == []
    _advance(client, "1m")

    status, output = _described(sfn, execution)
    assert status == "SUCCEEDED"
    assert output["error"]["Error"] == "States.Timeout"
    assert output["steps"]["await"] == {"outcome": "timed_out"}
    (after,) = calls("after", execution)
    assert from_iso(after["at"]) - started_at == HOUR
    events = sfn.get_execution_history(executionArn=execution)["events"]
    at = {e["type"]: e["timestamp"] for e in events}
    assert at["TaskTimedOut"] - at["TaskSubmitted"] == HOUR  # history on the virtual clock
    with pytest.raises(ClientError) as late:
        sfn.send_task_success(taskToken=token_of(execution), output="{}")
    assert _error_code(late) == "TaskTimedOut"


def test_send_task_failure_keeps_error_and_cause(stack: LocalStack, sfn: Any) -> None:
    execution = _start(stack, sfn, "Callback-await", "failure-1")

    sfn.send_task_failure(taskToken=token_of(execution), error="Handoff.Rejected", cause="nobody took it")

    status, output = _described(sfn, execution)
    assert status == "SUCCEEDED"
    assert output["error"] == {"Error": "Handoff.Rejected", "Cause": "nobody took it"}
    assert output["steps"]["await"] == {"outcome": "rejected"}


def test_an_answer_from_inside_a_handler_resumes_the_task_when_the_request_settles(
    stack: LocalStack, sfn: Any
) -> None:
    execution = _start(stack, sfn, "Callback-await", "in-handler-1")

    answered = stack.invoke(
        FUNCTION, {"action": "answer", "token": token_of(execution), "output": {"outcome": "completed"}}
    )

    assert answered == {"answered": True}
    status, output = _described(sfn, execution)
    assert status == "SUCCEEDED"
    assert output["steps"]["await"] == {"outcome": "completed"}


def test_a_handler_that_answers_its_own_token_at_once_never_waits(
    stack: LocalStack, client: LocalClient, sfn: Any
) -> None:
    execution = _start(stack, sfn, "Callback-answer-at-once", "at-once-1")

    status, output = _described(sfn, execution)
    assert status == "SUCCEEDED"
    assert output["steps"]["await"] == {"answered": "at once"}
    assert execution not in _waiting(client)


def test_heartbeats_keep_a_task_alive_and_a_missed_one_times_it_out(
    stack: LocalStack, client: LocalClient, sfn: Any
) -> None:
    started_at = stack.clock.now()
    execution = _start(stack, sfn, "Callback-heartbeat", "heartbeat-1")
    assert _waiting(client)[execution] == to_iso(started_at + timedelta(minutes=10))

    _advance(client, "9m")
    sfn.send_task_heartbeat(taskToken=token_of(execution))
    assert _waiting(client)[execution] == to_iso(started_at + timedelta(minutes=19))
    _advance(client, "9m")
    assert _described(sfn, execution)[0] == "RUNNING"
    _advance(client, "1m")

    status, output = _described(sfn, execution)
    assert status == "SUCCEEDED"
    assert output["error"]["Error"] == "States.Timeout"  # AWS: States.HeartbeatTimeout
    (after,) = calls("after", execution)
    assert from_iso(after["at"]) - started_at == timedelta(minutes=19)


def test_stopping_a_waiting_execution_ends_it_and_its_token(
    stack: LocalStack, client: LocalClient, sfn: Any
) -> None:
    execution = _start(stack, sfn, "Callback-await", "stop-1")

    sfn.stop_execution(executionArn=execution)

    assert _described(sfn, execution)[0] == "ABORTED"
    assert execution not in _waiting(client)
    with pytest.raises(ClientError) as late:
        sfn.send_task_success(taskToken=token_of(execution), output="{}")
    assert _error_code(late) == "TaskTimedOut"
    assert calls("after", execution) == []


def test_an_invoke_that_starts_a_callback_task_returns_with_the_task_waiting(
    stack: LocalStack, client: LocalClient, sfn: Any
) -> None:
    machine = stack.deployment.state_machine("Callback-await").arn

    started = stack.invoke(FUNCTION, {"action": "start", "machine": machine, "name": "from-handler-1"})

    execution = started["execution"]
    assert execution in _waiting(client)
    assert len(calls("await", execution)) == 1
    sfn.send_task_success(taskToken=token_of(execution), output="{}")
    assert _described(sfn, execution)[0] == "SUCCEEDED"
