"""State machines on the local stack's virtual clock, with a hand-written template whose step
handler is test-only (local_stack_fixture/journey_*): a day-long Wait passes in one call, a
Retry backs off on the clock, a Catch ends the journey, and the order never depends on luck."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from baton.clock import from_iso, to_iso
from infra.http_client import LocalClient
from infra.local import LocalStack
from tests.e2e.local_stack_fixture import journey_handlers
from tests.e2e.local_stack_fixture.journey_handlers import calls

pytestmark = pytest.mark.e2e

TEMPLATE = Path(__file__).parent / "local_stack_fixture" / "journey_template.json"
DAY = timedelta(days=1)


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(json.loads(TEMPLATE.read_text()), prefix="journeys") as started:
        yield started


@pytest.fixture(scope="module")
def client(stack: LocalStack) -> LocalClient:
    return LocalClient(stack.base_url, stack.token)


def _start(stack: LocalStack, sfn: Any, machine: str, name: str, contact_id: str) -> str:
    arn = stack.deployment.state_machine(machine).arn
    payload = {"contact_id": contact_id, "event": {"type": "test"}, "steps": {}}
    execution: str = sfn.start_execution(stateMachineArn=arn, name=name, input=json.dumps(payload))[
        "executionArn"
    ]
    return execution


def _advance(client: LocalClient, body: dict[str, str]) -> dict[str, Any]:
    resp = client.post("/_local/clock", json_body=body)
    assert resp.status == 200, resp.text
    answer: dict[str, Any] = resp.json()
    return answer


def _status(sfn: Any, execution: str) -> str:
    status: str = sfn.describe_execution(executionArn=execution)["status"]
    return status


def test_a_day_long_wait_passes_only_when_the_clock_has_moved_a_full_day(
    stack: LocalStack, client: LocalClient, sfn: Any
) -> None:
    started_at = stack.clock.now()

    execution = _start(stack, sfn, "Fixture-wait-a-day", "wait-1", "c-wait")

    assert [c["at"] for c in calls("first", execution)] == [to_iso(started_at)]
    assert calls("second", execution) == []
    _advance(client, {"advance": "23h"})
    assert calls("second", execution) == []
    assert _status(sfn, execution) == "RUNNING"
    answer = _advance(client, {"advance": "1h"})
    assert [c["at"] for c in calls("second", execution)] == [to_iso(started_at + DAY)]
    assert answer["now"] == to_iso(started_at + DAY)
    assert _status(sfn, execution) == "SUCCEEDED"


def test_one_advance_runs_everything_that_fell_due_and_stops_at_the_target(
    stack: LocalStack, client: LocalClient, sfn: Any
) -> None:
    started_at = stack.clock.now()
    execution = _start(stack, sfn, "Fixture-wait-a-day", "wait-2", "c-wait-2")

    answer = _advance(client, {"advance": "3d"})

    assert [c["at"] for c in calls("second", execution)] == [to_iso(started_at + DAY)]
    assert answer["now"] == to_iso(started_at + 3 * DAY)
    assert _status(sfn, execution) == "SUCCEEDED"


def test_handlers_read_the_virtual_time_and_the_local_catalog(stack: LocalStack, sfn: Any) -> None:
    execution = _start(stack, sfn, "Fixture-wait-a-day", "wait-3", "c-wait-3")

    (first,) = calls("first", execution)
    assert first["at"] == stack.clock.iso()
    assert first["event"] == {"action": "first", "execution": execution, "contact_id": "c-wait-3"}
    assert Path(first["env"]["BATON_JOURNEYS_DIR"]).is_absolute()
    assert first["env"]["BATON_STATE_MACHINE_ARN_PREFIX"].endswith(":stateMachine:Fixture-")


def test_a_hold_until_a_timestamp_resumes_exactly_then(
    stack: LocalStack, client: LocalClient, sfn: Any
) -> None:
    started_at = stack.clock.now()
    execution = _start(stack, sfn, "Fixture-hold", "hold-1", "c-hold")
    until = started_at + journey_handlers.HOLD_FOR

    waiting = client.get("/_local/clock").json()["waiting"]
    assert {"execution": execution, "until": to_iso(until)} in waiting
    _advance(client, {"to": to_iso(until - timedelta(seconds=1))})
    assert calls("after", execution) == []
    _advance(client, {"to": to_iso(until)})
    assert [c["at"] for c in calls("after", execution)] == [to_iso(until)]
    assert _status(sfn, execution) == "SUCCEEDED"


def test_retry_backoff_advances_with_the_clock_not_with_real_time(
    stack: LocalStack, client: LocalClient, sfn: Any
) -> None:
    started_at = stack.clock.now()
    execution = _start(stack, sfn, "Fixture-retry", "retry-1", "c-retry")

    assert len(calls("flaky", execution)) == 1
    _advance(client, {"advance": "59s"})
    assert len(calls("flaky", execution)) == 1
    _advance(client, {"advance": "1s"})
    assert len(calls("flaky", execution)) == 2  # BackoffRate 2: the next try is 120 s later
    _advance(client, {"advance": "119s"})
    assert len(calls("flaky", execution)) == 2
    _advance(client, {"advance": "1s"})

    attempts = [from_iso(c["at"]) - started_at for c in calls("flaky", execution)]
    assert attempts == [timedelta(0), timedelta(seconds=60), timedelta(seconds=180)]
    assert _status(sfn, execution) == "SUCCEEDED"


def test_an_error_no_retry_matches_is_caught_with_its_class_name_and_fails_the_journey(
    stack: LocalStack, sfn: Any
) -> None:
    execution = _start(stack, sfn, "Fixture-catch", "catch-1", "c-catch")

    assert len(calls("boom", execution)) == 1  # Retry names Unavailable only
    (record,) = calls("record", execution)
    error = record["event"]["error"]
    assert error["Error"] == "PermanentFailure"
    cause = json.loads(error["Cause"])
    assert (cause["errorType"], cause["errorMessage"]) == (
        "PermanentFailure",
        "the fixture step failed on purpose",
    )
    described = sfn.describe_execution(executionArn=execution)
    assert (described["status"], described["error"]) == ("FAILED", "Journey.Failed")


def test_executions_due_at_the_same_time_resume_in_the_order_they_started(
    stack: LocalStack, client: LocalClient, sfn: Any
) -> None:
    executions = [_start(stack, sfn, "Fixture-wait-a-day", f"order-{i}", f"c-order-{i}") for i in range(4)]

    _advance(client, {"advance": "1d"})

    ran = [
        c["execution"]
        for c in journey_handlers.CALLS
        if c["action"] == "second" and c["execution"] in executions
    ]
    assert ran == executions


def test_a_stopped_execution_is_aborted_and_runs_nothing_more(
    stack: LocalStack, client: LocalClient, sfn: Any
) -> None:
    execution = _start(stack, sfn, "Fixture-wait-a-day", "stop-1", "c-stop")

    stopped = sfn.stop_execution(executionArn=execution)

    assert stopped["stopDate"] is not None
    assert _status(sfn, execution) == "ABORTED"
    _advance(client, {"advance": "2d"})
    assert calls("second", execution) == []
    assert execution not in [w["execution"] for w in client.get("/_local/clock").json()["waiting"]]


def test_execution_history_is_stamped_with_virtual_time(
    stack: LocalStack, client: LocalClient, sfn: Any
) -> None:
    execution = _start(stack, sfn, "Fixture-wait-a-day", "history-1", "c-history")
    _advance(client, {"advance": "1d"})

    events = sfn.get_execution_history(executionArn=execution)["events"]

    at = {e["type"]: e["timestamp"] for e in events}
    assert at["WaitStateExited"] - at["WaitStateEntered"] == DAY
    described = sfn.describe_execution(executionArn=execution)
    assert described["stopDate"] - described["startDate"] == DAY


def test_clock_reports_now_and_what_is_waiting(stack: LocalStack, client: LocalClient, sfn: Any) -> None:
    execution = _start(stack, sfn, "Fixture-wait-a-day", "clock-1", "c-clock")

    state = client.get("/_local/clock").json()

    assert state["now"] == stack.clock.iso()
    assert {"execution": execution, "until": to_iso(stack.clock.now() + DAY)} in state["waiting"]


@pytest.mark.parametrize(
    ("body", "field"),
    [({"advance": "soon"}, "advance"), ({"to": "2000-01-01T00:00:00Z"}, "to"), ({"by": "1d"}, "by")],
)
def test_bad_clock_move_is_422_naming_the_field_and_moves_nothing(
    stack: LocalStack, client: LocalClient, body: dict[str, str], field: str
) -> None:
    before = stack.clock.now()

    resp = client.post("/_local/clock", json_body=body)

    assert resp.status == 422
    assert [d["field"] for d in resp.json()["error"]["details"]] == [field]
    assert stack.clock.now() == before


def test_clock_body_that_is_not_json_is_400(client: LocalClient) -> None:
    resp = client.post("/_local/clock", data=b"{", headers={"Content-Type": "application/json"})

    assert resp.status == 400


def test_python_callers_can_advance_the_stack_too(stack: LocalStack, sfn: Any) -> None:
    started_at = stack.clock.now()
    execution = _start(stack, sfn, "Fixture-wait-a-day", "python-1", "c-python")

    now: datetime = stack.advance("1d")

    assert now == started_at + DAY
    assert len(calls("second", execution)) == 1
