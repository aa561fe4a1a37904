"""The campaign state machine's Distributed Map on the local stack, its definition exactly as the
CDK app synthesizes it, with a test-only function behind it (local_stack_fixture/
campaign_handlers.py): the Map reads the run's batch items from S3, runs them one at a time,
at most MaxConcurrency in flight; a Retry backoff of a batch sleeps on the virtual clock as a
sleeper of its own, several at once, and `POST /_local/clock` wakes them in due-time order."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from baton.clock import from_iso, to_iso
from infra.bench.distributed_map import campaign_template
from infra.config import CampaignsConfig
from infra.http_client import LocalClient
from infra.local import LocalStack
from tests.e2e.local_stack_fixture.callback_handlers import token_of
from tests.e2e.local_stack_fixture.campaign_handlers import BATCH_SIZE, CALLS, HANDLER, PLANS, Plan, calls

pytestmark = pytest.mark.e2e

MACHINE = "Local-Campaigns"
MAX_CONCURRENCY = CampaignsConfig().max_concurrency  # cdk.json sets none: the default


@pytest.fixture(scope="module")
def stack(synthesized_template: dict[str, Any]) -> Iterator[LocalStack]:
    template = campaign_template(synthesized_template, machine_name=MACHINE, handler=HANDLER)
    with LocalStack(template, prefix="campaign-map") as started:
        yield started


@pytest.fixture(scope="module")
def client(stack: LocalStack) -> LocalClient:
    return LocalClient(stack.base_url, stack.token)


def _start(stack: LocalStack, sfn: Any, run_id: str, plan: Plan) -> str:
    PLANS[run_id] = plan
    arn = stack.deployment.state_machine(MACHINE).arn
    execution: str = sfn.start_execution(
        # A run for now: its `Wait for its time` passes at once.
        stateMachineArn=arn,
        name=run_id,
        input=json.dumps({"run_id": run_id, "at": to_iso(stack.clock.now())}),
    )["executionArn"]
    return execution


def _advance(client: LocalClient, by: str) -> None:
    resp = client.post("/_local/clock", json_body={"advance": by})
    assert resp.status == 200, resp.text


def _waiting(client: LocalClient, execution: str) -> list[tuple[str, str]]:
    """(child execution ARN, until) of the run's batches asleep, from GET /_local/clock."""
    machine_and_name = execution.split(":execution:", 1)[1]
    machine = machine_and_name.split(":", 1)[0]
    return [
        (w["execution"], w["until"])
        for w in client.get("/_local/clock").json()["waiting"]
        if f":execution:{machine}/Batches:" in w["execution"]
    ]


def _batches(run_id: str) -> list[tuple[int, int, datetime]]:
    """(batch, retry count, virtual time) of every batch call, in the order they ran."""
    return [(c["batch"], c["retry_count"], from_iso(c["at"])) for c in calls("batch", run_id)]


def _actions(run_id: str) -> list[str]:
    return [c["action"] for c in CALLS if c["run_id"] == run_id]


def test_a_run_sends_each_batch_of_its_s3_snapshot_once_in_order_then_finishes(
    stack: LocalStack, sfn: Any
) -> None:
    now = stack.clock.now()

    execution = _start(stack, sfn, "map-run-3", Plan(batches=3))

    # the call returns once the run has settled: the batches ran one at a time, in index order
    described = sfn.describe_execution(executionArn=execution)
    assert described["status"] == "SUCCEEDED"
    assert _actions("map-run-3") == ["snapshot", "batch", "batch", "batch", "finish"]
    assert _batches("map-run-3") == [(0, 0, now), (1, 0, now), (2, 0, now)]
    assert {c["contacts"] for c in calls("batch", "map-run-3")} == {BATCH_SIZE}
    # ResultPath null: the run's state holds the snapshot's answer, none of the batches'
    output = json.loads(described["output"])
    assert set(output) == {"run_id", "at", "snapshot"}
    assert output["snapshot"]["batches"] == 3


def test_a_ten_thousand_contact_snapshot_runs_as_a_hundred_batches(stack: LocalStack, sfn: Any) -> None:
    execution = _start(stack, sfn, "map-run-100", Plan(batches=100))

    assert sfn.describe_execution(executionArn=execution)["status"] == "SUCCEEDED"
    assert [batch for batch, _, _ in _batches("map-run-100")] == list(range(100))
    assert sum(c["contacts"] for c in calls("batch", "map-run-100")) == 10_000


def test_paused_batches_wait_a_minute_each_as_sleepers_of_their_own_until_the_clock_moves(
    stack: LocalStack, client: LocalClient, sfn: Any
) -> None:
    # given a paused run with more batches than the map runs at once
    started = stack.clock.now()
    minute = started + timedelta(minutes=1)
    plan = Plan(batches=MAX_CONCURRENCY + 2, paused=True)

    execution = _start(stack, sfn, "map-paused", plan)

    # then MaxConcurrency batches asked once and now sleep, each its own child execution
    assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"
    assert _batches("map-paused") == [(n, 0, started) for n in range(MAX_CONCURRENCY)]
    waiting = _waiting(client, execution)
    assert len({child for child, _ in waiting}) == MAX_CONCURRENCY
    assert {from_iso(until) for _, until in waiting} == {minute}

    # when half a minute passes, nothing is due
    _advance(client, "30s")
    assert len(_batches("map-paused")) == MAX_CONCURRENCY

    # when the run is resumed and the minute is up, every batch goes on, the last two once a
    # slot is free, and the run finishes
    plan.paused = False
    _advance(client, "30s")
    ran = _batches("map-paused")[MAX_CONCURRENCY:]
    assert sorted((batch, retry) for batch, retry, _ in ran) == sorted(
        [(n, 1) for n in range(MAX_CONCURRENCY)] + [(MAX_CONCURRENCY, 0), (MAX_CONCURRENCY + 1, 0)]
    )
    assert {at for _, _, at in ran} == {minute}
    assert sfn.describe_execution(executionArn=execution)["status"] == "SUCCEEDED"
    assert _actions("map-paused")[-1] == "finish"
    assert _waiting(client, execution) == []


def test_sleeping_batches_wake_in_due_time_order_not_in_the_order_they_fell_asleep(
    stack: LocalStack, client: LocalClient, sfn: Any
) -> None:
    # given batch 0 paused (asks again in a minute) and batch 1 out of Lambda time twice (goes on
    # a second later each time)
    started = stack.clock.now()
    second = timedelta(seconds=1)
    plan = Plan(batches=3, paused_batches={0}, unfinished={1: 2})

    execution = _start(stack, sfn, "map-due-order", plan)

    assert [(b, r) for b, r, _ in _batches("map-due-order")] == [(0, 0), (1, 0), (2, 0)]
    assert sorted(from_iso(until) - started for _, until in _waiting(client, execution)) == [
        second,
        timedelta(minutes=1),
    ]

    # when the clock moves a minute: batch 1 goes on at +1 s and +2 s, then batch 0 at +60 s
    plan.paused_batches.clear()
    _advance(client, "1m")

    assert _batches("map-due-order")[3:] == [
        (1, 1, started + second),
        (1, 2, started + 2 * second),
        (0, 1, started + timedelta(minutes=1)),
    ]
    assert sfn.describe_execution(executionArn=execution)["status"] == "SUCCEEDED"


def test_a_batch_that_fails_fails_the_map_and_the_run_records_the_failure(
    stack: LocalStack, sfn: Any
) -> None:
    execution = _start(stack, sfn, "map-failing", Plan(batches=4, failing={1}))

    described = sfn.describe_execution(executionArn=execution)
    assert described["status"] == "FAILED"
    assert described["error"] == "Baton.CampaignFailed"
    (failure,) = calls("fail", "map-failing")
    assert failure["error"]["Error"] == "States.ExceedToleratedFailureThreshold"
    assert calls("finish", "map-failing") == []
    # the map stops its other batches: none starts after the failure
    assert [batch for batch, _, _ in _batches("map-failing")] == [0, 1]


def test_stopping_a_run_ends_its_sleeping_batches_and_starts_no_more(
    stack: LocalStack, client: LocalClient, sfn: Any
) -> None:
    execution = _start(stack, sfn, "map-stopped", Plan(batches=MAX_CONCURRENCY + 5, paused=True))
    assert len(_waiting(client, execution)) == MAX_CONCURRENCY

    sfn.stop_execution(executionArn=execution)

    assert sfn.describe_execution(executionArn=execution)["status"] == "ABORTED"
    assert _waiting(client, execution) == []
    _advance(client, "2m")
    assert len(_batches("map-stopped")) == MAX_CONCURRENCY
    assert calls("finish", "map-stopped") == []


def test_the_session_stack_deploys_the_campaign_state_machine_and_its_snapshot_bucket(
    local_stack: LocalStack,
) -> None:
    # the whole synthesized template: the bucket CampaignFunction is told exists in S3
    function = local_stack.deployment.function("CampaignFunction")
    bucket = function.environment["BATON_CAMPAIGNS_BUCKET"]
    machine = local_stack.deployment.state_machine("CampaignStateMachine")

    assert bucket in {b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]}
    assert function.environment["BATON_CAMPAIGN_STATE_MACHINE_ARN"] == machine.arn
    assert function.timeout_s == 300
    assert json.loads(machine.definition)["States"]["Batches"]["ItemProcessor"]["ProcessorConfig"] == {
        "Mode": "DISTRIBUTED",
        "ExecutionType": "STANDARD",
    }


# Callback tasks inside a Distributed Map's items -------------------------------------------

CALLBACK_TEMPLATE = Path(__file__).parent / "local_stack_fixture" / "callback_template.json"
CALLBACK_FUNCTION = "CallbackStepFunction6E7F8091"
MAP_AWAIT = "MapAwait"
# Each item waits (an hour at most) for its token: `await` stores it under $$.Execution.Id.
MAP_AWAIT_DEFINITION = {
    "StartAt": "Items",
    "States": {
        "Items": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "Label": "Items",
            "MaxConcurrency": 5,
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "Await",
                "States": {
                    "Await": {
                        "Type": "Task",
                        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                        "Parameters": {
                            "FunctionName": "__FUNCTION__",
                            "Payload": {
                                "action": "await",
                                "execution.$": "$$.Execution.Id",
                                "token.$": "$$.Task.Token",
                            },
                        },
                        "TimeoutSeconds": 3600,
                        "End": True,
                    }
                },
            },
            "End": True,
        }
    },
}


@pytest.fixture(scope="module")
def callback_stack() -> Iterator[LocalStack]:
    template = json.loads(CALLBACK_TEMPLATE.read_text())
    head, tail = json.dumps(MAP_AWAIT_DEFINITION).split("__FUNCTION__")
    resources = {
        lid: r for lid, r in template["Resources"].items() if r["Type"] != "AWS::StepFunctions::StateMachine"
    }
    resources["MapAwaitMachine1A2B3C4D"] = {
        "Type": "AWS::StepFunctions::StateMachine",
        "Properties": {
            "StateMachineName": MAP_AWAIT,
            "DefinitionString": {"Fn::Join": ["", [head, {"Fn::GetAtt": [CALLBACK_FUNCTION, "Arn"]}, tail]]},
        },
    }
    with LocalStack({**template, "Resources": resources}, prefix="map-callbacks") as started:
        yield started


def test_an_answer_to_one_items_token_wakes_that_item_alone_before_the_call_returns(
    callback_stack: LocalStack, sfn: Any
) -> None:
    arn = callback_stack.deployment.state_machine(MAP_AWAIT).arn
    execution = sfn.start_execution(
        stateMachineArn=arn, name="map-await", input=json.dumps({"items": ["a", "b", "c"]})
    )["executionArn"]
    children = sorted(s.key for s in callback_stack.scheduler.sleepers())
    assert len(children) == 3  # each item waits for its own token, as its own sleeper

    sfn.send_task_success(taskToken=token_of(children[1]), output=json.dumps({"answered": "b"}))

    assert sorted(s.key for s in callback_stack.scheduler.sleepers()) == [children[0], children[2]]
    assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"

    for child in (children[0], children[2]):
        sfn.send_task_success(taskToken=token_of(child), output=json.dumps({"answered": child[-1]}))

    described = sfn.describe_execution(executionArn=execution)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == [{"answered": "0"}, {"answered": "b"}, {"answered": "2"}]
