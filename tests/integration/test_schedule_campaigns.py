"""A schedule's firing on moto: ScheduleFunction starts one campaign run over the journey's
segment, named by the journey and the time the schedule was due, so a retried firing starts
nothing new and the next firing is a run of its own."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from baton import bootstrap
from baton.campaigns.runs import DynamoCampaignRuns
from baton.campaigns.service import schedule_run_id
from baton.clock import FixedClock, use_clock
from baton.handlers import schedule
from baton.schedules.expressions import parse_schedule_time
from baton.settings import Settings
from baton.triggers import wiring
from baton.triggers.exceptions import JourneyNotFound
from infra.demo import START
from infra.local.runtime import LambdaContext
from tests.integration.handler_calls import ACCOUNT, REGION, ROOT

MACHINE = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:Baton-Campaigns"
IDLE = json.dumps({"StartAt": "Idle", "States": {"Idle": {"Type": "Succeed"}}})


@pytest.fixture
def world(aws: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("BATON_JOURNEYS_DIR", str(ROOT / "journeys"))
    monkeypatch.setenv("BATON_CAMPAIGN_STATE_MACHINE_ARN", MACHINE)
    # The sample catalog's journeys are reviewed by dates in 2027: run on a day before them,
    # not today, so a journey closing for review does not depend on when the tests run.
    use_clock(FixedClock(START))
    bootstrap.reset()
    wiring.catalog.cache_clear()
    sfn = boto3.client("stepfunctions", region_name=REGION)
    sfn.create_state_machine(
        name="Baton-Campaigns", definition=IDLE, roleArn=f"arn:aws:iam::{ACCOUNT}:role/c"
    )
    yield sfn
    use_clock(None)
    bootstrap.reset()
    wiring.catalog.cache_clear()


def _fire(journey: str = "gold-monthly", time: str = "2026-06-01T09:00:00Z") -> dict[str, Any]:
    context = LambdaContext(
        function_name="Baton-ScheduleFunction",
        invoked_function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:Baton-ScheduleFunction",
        memory_limit_in_mb=512,
        aws_request_id="req-1",
        timeout_s=60,
    )
    return schedule.handler({"journey": journey, "scheduled_time": time}, context)


def test_a_firing_starts_one_campaign_run_over_the_journeys_segment(world: Any, aws: Settings) -> None:
    first = _fire()
    again = _fire()  # Scheduler retries the same firing

    run_id = schedule_run_id("gold-monthly", parse_schedule_time("2026-06-01T09:00:00Z"))
    assert first == again
    assert first["run_id"] == run_id
    (execution,) = world.list_executions(stateMachineArn=MACHINE)["executions"]
    assert execution["name"] == run_id
    run = DynamoCampaignRuns(aws.campaigns_table, boto3.client("dynamodb", region_name=REGION)).get(run_id)
    assert (run.journey, run.segment, run.trigger, run.path) == (
        "gold-monthly",
        "gold-customers",
        "schedule",
        "batch",
    )


def test_the_next_firing_is_a_run_of_its_own(world: Any) -> None:
    june = _fire(time="2026-06-01T09:00:00Z")
    july = _fire(time="2026-07-01T09:00:00Z")

    assert june["run_id"] != july["run_id"]
    assert len(world.list_executions(stateMachineArn=MACHINE)["executions"]) == 2


def test_a_journey_the_catalog_lacks_fails_the_firing_so_scheduler_retries_it(world: Any) -> None:
    with pytest.raises(JourneyNotFound):
        _fire(journey="no-such-journey")
    assert world.list_executions(stateMachineArn=MACHINE)["executions"] == []


def test_a_firing_of_a_marketing_journey_closed_for_review_starts_no_run_and_is_not_retried(
    world: Any,
) -> None:
    # gold-monthly is due for review on 2027-04-15: fourteen days of grace later it is closed.
    use_clock(FixedClock(datetime(2027, 4, 30, 9, tzinfo=UTC)))
    try:
        bootstrap.reset()
        answer = _fire(time="2027-04-30T09:00:00Z")
    finally:
        use_clock(None)
        bootstrap.reset()

    assert answer == {"not_admitted": "gold-monthly", "reason": "review_overdue"}
    assert world.list_executions(stateMachineArn=MACHINE)["executions"] == []
