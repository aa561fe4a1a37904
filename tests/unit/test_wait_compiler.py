"""`wait: {event, timeout}` compiled: a callback task with TimeoutSeconds (R-REL-3)
whose timeout is caught into the `wait_timed_out` task; both go on to the next step."""

from __future__ import annotations

from typing import Any

from baton.journeys.models import Journey
from infra.journeys.compiler import RECORD_FAILURE_STATE, STEP_BUILDERS, render_definition
from infra.journeys.wait_event import build_wait_event

FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:Baton-JourneyStep"
WAIT = {"id": "answered", "wait": {"event": "survey.answered", "timeout": "3d"}}
ROUTE = {
    "id": "route",
    "branch": {"cases": [{"when": {"event_received": "answered"}, "next": "end"}], "default": "end"},
}


def _definition(steps: list[dict[str, Any]]) -> dict[str, Any]:
    journey = Journey.model_validate(
        {
            "journey": "survey",
            "owner": "cx@example.com",
            "purpose": "transactional",
            "review_by": "2027-01-01",
            "trigger": {"event": "ticket.closed"},
            "steps": steps,
        }
    )
    return render_definition(journey, function_arn=FUNCTION_ARN)


def test_wait_event_is_registered() -> None:
    assert STEP_BUILDERS["wait.event"] is build_wait_event


def test_the_wait_is_a_callback_task_timing_out_after_the_steps_timeout() -> None:
    definition = _definition([WAIT, ROUTE])
    state = definition["States"]["Await answered"]

    assert definition["StartAt"] == "Await answered"
    assert state["Type"] == "Task"
    assert state["Resource"] == "arn:aws:states:::lambda:invoke.waitForTaskToken"
    assert state["TimeoutSeconds"] == 3 * 24 * 3600  # R-REL-3
    assert state["ResultPath"] == "$.steps.answered"
    assert state["Next"] == "Branch route"
    assert state["Parameters"]["FunctionName"] == FUNCTION_ARN
    assert state["Parameters"]["Payload"] == {
        "action": "await_event",
        "journey": "survey",
        "step": "answered",
        "execution.$": "$$.Execution.Id",
        "steps.$": "$.steps",
        "token.$": "$$.Task.Token",
    }


def test_the_timeout_is_caught_before_anything_else_into_the_timed_out_task() -> None:
    definition = _definition([WAIT, ROUTE])
    catches = definition["States"]["Await answered"]["Catch"]

    assert [(c["ErrorEquals"], c["Next"]) for c in catches] == [
        (["States.Timeout"], "Timed out answered"),
        (["States.ALL"], RECORD_FAILURE_STATE),
    ]
    assert catches[0]["ResultPath"] == "$.steps.answered"


def test_the_timed_out_task_answers_for_the_step_and_goes_on_to_the_next_step() -> None:
    definition = _definition([WAIT, ROUTE])
    state = definition["States"]["Timed out answered"]

    assert state["Parameters"]["action"] == "wait_timed_out"
    assert state["Parameters"]["step"] == "answered"
    assert state["ResultPath"] == "$.steps.answered"  # {"event_received": false, "event": null}
    assert state["Next"] == "Branch route"
    assert [c["Next"] for c in state["Catch"]] == [RECORD_FAILURE_STATE]


def test_both_tasks_retry_lambda_and_baton_errors_but_not_the_timeout() -> None:
    definition = _definition([WAIT, ROUTE])

    for name in ("Await answered", "Timed out answered"):
        errors = {e for r in definition["States"][name]["Retry"] for e in r["ErrorEquals"]}
        assert "Baton.ProviderUnavailable" in errors
        assert "Lambda.TooManyRequestsException" in errors
        assert "States.Timeout" not in errors
        assert "States.ALL" not in errors


def test_a_last_wait_goes_to_the_end_of_the_journey() -> None:
    definition = _definition([WAIT])

    assert definition["States"]["Await answered"]["Next"] == "Finish journey"
    assert definition["States"]["Timed out answered"]["Next"] == "Finish journey"


def test_every_waitfortasktoken_sets_timeout_seconds() -> None:
    definition = _definition([WAIT, {"id": "again", "wait": {"event": "x.y", "timeout": "10m"}}, ROUTE])

    callbacks = [
        s for s in definition["States"].values() if str(s.get("Resource", "")).endswith("waitForTaskToken")
    ]
    assert len(callbacks) == 2
    assert sorted(s["TimeoutSeconds"] for s in callbacks) == [600, 3 * 24 * 3600]
