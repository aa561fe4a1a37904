"""`send` with `confirm_delivery` compiled: per channel a send task, a receipt
callback task with TimeoutSeconds (R-REL-3), failover on a failed receipt or none in time."""

from __future__ import annotations

from typing import Any

from baton.journeys.models import Journey
from infra.journeys.compiler import FINISH_STATE, RECORD_FAILURE_STATE, STEP_BUILDERS, render_definition
from infra.journeys.confirm_delivery import build_confirm_delivery

FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:Baton-JourneyStep"
ACK = {"id": "ack", "send": {"template": "ack", "channels": ["sms", "email"], "confirm_delivery": "10m"}}


def _definition(steps: list[dict[str, Any]]) -> dict[str, Any]:
    journey = Journey.model_validate(
        {
            "journey": "notice",
            "owner": "ops@example.com",
            "purpose": "transactional",
            "review_by": "2027-01-01",
            "trigger": {"event": "order.shipped"},
            "steps": steps,
        }
    )
    return render_definition(journey, function_arn=FUNCTION_ARN)


def _path(definition: dict[str, Any], start: str, choose: dict[str, str]) -> list[str]:
    """The states an execution passes, taking at each Choice the branch named in `choose`."""
    states = definition["States"]
    path, name = [], start
    while name in states and len(path) < 30:
        path.append(name)
        state = states[name]
        if state["Type"] == "Choice":
            name = choose.get(name, state.get("Default", ""))
        elif state["Type"] in ("Succeed", "Fail"):
            break
        else:
            name = state.get("Next", "")
    return path


def test_confirm_delivery_is_registered() -> None:
    assert STEP_BUILDERS["send.confirm_delivery"] is build_confirm_delivery


def test_the_step_starts_by_sending_on_its_first_channel_only() -> None:
    definition = _definition([ACK])
    send = definition["States"]["Send ack by sms"]

    start = definition["States"][definition["StartAt"]]
    assert {"Variable": "$.resume", "IsPresent": False, "Next": "Send ack by sms"} in start["Choices"]
    assert send["Parameters"]["action"] == "send_channel"
    assert send["Parameters"]["channel"] == "sms"
    assert send["ResultPath"] == "$.steps.ack"


def test_the_receipt_wait_is_a_callback_task_timing_out_after_confirm_delivery() -> None:
    state = _definition([ACK])["States"]["Await receipt ack by sms"]

    assert state["Resource"] == "arn:aws:states:::lambda:invoke.waitForTaskToken"
    assert state["TimeoutSeconds"] == 600  # R-REL-3
    assert state["ResultPath"] == "$.steps.ack"
    assert state["Parameters"]["Payload"]["action"] == "await_receipt"
    assert state["Parameters"]["Payload"]["token.$"] == "$$.Task.Token"


def test_no_receipt_in_time_fails_over_to_the_next_channel_and_other_errors_fail_the_run() -> None:
    catches = _definition([ACK])["States"]["Await receipt ack by sms"]["Catch"]

    assert [(c["ErrorEquals"], c["Next"]) for c in catches] == [
        (["States.Timeout"], "Send ack by email"),
        (["States.ALL"], RECORD_FAILURE_STATE),
    ]
    assert catches[0]["ResultPath"] == "$.steps.ack.timed_out"


def test_a_confirmed_delivery_takes_four_transitions() -> None:
    definition = _definition([ACK])
    path = _path(
        definition,
        "Send ack by sms",
        {"ack by sms sent?": "Await receipt ack by sms", "ack by sms delivered?": FINISH_STATE},
    )

    assert path[: path.index(FINISH_STATE)] == [
        "Send ack by sms",
        "ack by sms sent?",
        "Await receipt ack by sms",
        "ack by sms delivered?",
    ]
    delivered = definition["States"]["ack by sms delivered?"]
    assert delivered["Choices"] == [
        {"Variable": "$.steps.ack.delivered", "BooleanEquals": True, "Next": FINISH_STATE}
    ]
    assert delivered["Default"] == "Send ack by email"


def test_the_last_channel_failing_ends_the_step_as_the_plain_send_does() -> None:
    states = _definition([ACK])["States"]

    assert states["ack by email delivered?"]["Default"] == "Not delivered ack"
    assert states["Await receipt ack by email"]["Catch"][0]["Next"] == "Not delivered ack"
    assert "channel" not in states["Not delivered ack"]["Parameters"]
    choices = {c["StringEquals"]: c["Next"] for c in states["ack outcome"]["Choices"]}
    assert choices == {"skipped": "ack skipped", "failed": "ack failed"}
    assert states["ack failed"]["Type"] == "Fail"


def test_a_refused_or_failed_send_goes_to_the_next_channel_and_a_hold_waits_then_retries() -> None:
    states = _definition([ACK])["States"]
    sent = states["ack by sms sent?"]["Choices"]

    # held: a turn of the run is counted on the way to the hold (R-REL-1)
    assert {
        "Variable": "$.steps.ack.outcome",
        "StringEquals": "held",
        "Next": "Turn +1 Hold ack by sms",
    } in sent
    assert states["Turn +1 Hold ack by sms"]["Next"] == "Hold ack by sms"
    assert any(c.get("Next") == "Send ack by email" and "Or" in c for c in sent)
    assert states["Hold ack by sms"]["TimestampPath"] == "$.steps.ack.until"
    assert states["Hold ack by sms"]["Next"] == "Send ack by sms"
    assert {"Variable": "$.steps.ack.outcome", "StringEquals": "skipped", "Next": "ack skipped"} in sent


def test_a_webhook_has_no_receipt_to_wait_for() -> None:
    step = {"id": "hook", "send": {"template": "ack", "channels": ["webhook"], "confirm_delivery": "10m"}}
    states = _definition([step])["States"]

    assert not any(name.startswith("Await receipt") for name in states)
    sent = states["hook by webhook sent?"]["Choices"]
    assert {"Variable": "$.steps.hook.outcome", "StringEquals": "sent", "Next": FINISH_STATE} in sent


def test_every_callback_task_sets_timeout_seconds() -> None:
    states = _definition([ACK])["States"]

    callbacks = [s for s in states.values() if s.get("Resource", "").endswith(".waitForTaskToken")]
    assert len(callbacks) == 2
    assert all(s["TimeoutSeconds"] == 600 for s in callbacks)  # R-REL-3
