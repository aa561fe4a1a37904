"""A scheduled run on moto: ScheduleFunction scans the contacts table page by page, starts the
journey for the segment's contacts in Step Functions under deterministic names, and a retry of the
same schedule time starts nothing new."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from baton import bootstrap
from baton.contacts.models import ContactInput
from baton.handlers import schedule
from baton.schedules.runner import DynamoContactSource
from baton.settings import Settings
from baton.triggers import wiring
from baton.triggers.runs import DynamoRunRepository
from infra.local.runtime import LambdaContext
from tests.integration.conftest import REGION
from tests.integration.journeys import execution_name_now


def _name(journey_id: str, contact_id: str, key: str) -> str:
    return execution_name_now(journey_id, contact_id, key)


ACCOUNT = "123456789012"
PREFIX = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:Baton-"
JOURNEYS = Path(__file__).resolve().parents[2] / "journeys"
KEY = "schedule:gold-monthly:2026-06-01T09:00:00Z"
PASS = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})


@pytest.fixture
def world(aws: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("BATON_JOURNEYS_DIR", str(JOURNEYS))
    monkeypatch.setenv("BATON_STATE_MACHINE_ARN_PREFIX", PREFIX)
    bootstrap.reset()
    wiring.catalog.cache_clear()
    sfn = boto3.client("stepfunctions", region_name=REGION)
    # moto does not run this one (execute_state_machine is off): executions stay RUNNING.
    sfn.create_state_machine(
        name="Baton-gold-monthly", definition=PASS, roleArn=f"arn:aws:iam::{ACCOUNT}:role/Baton-gold-monthly"
    )
    services = bootstrap.services()
    for index in range(7):  # gold buyers: c0, c2, c4, c6
        attributes = {"tier": "gold" if index % 2 == 0 else "silver", "bought_this_year": True}
        services.contacts.upsert(
            f"c{index}", ContactInput(email=f"c{index}@example.com", attributes=attributes)
        )
    yield sfn
    bootstrap.reset()
    wiring.catalog.cache_clear()


def _context() -> Any:
    return LambdaContext(
        function_name="Baton-ScheduleFunction",
        invoked_function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:Baton-ScheduleFunction",
        memory_limit_in_mb=512,
        aws_request_id="req-1",
        timeout_s=60,
    )


def _fire(time: str = "2026-06-01T09:00:00Z") -> dict[str, Any]:
    return schedule.handler({"journey": "gold-monthly", "scheduled_time": time}, _context())


def test_the_contacts_table_is_scanned_page_by_page(world: Any, aws: Settings) -> None:
    pages = list(DynamoContactSource(aws.contacts_table, page_size=3).pages())

    assert len(pages) >= 3
    assert sorted(c["contact_id"] for page in pages for c in page) == [f"c{i}" for i in range(7)]
    assert all("attributes" in c for page in pages for c in page)


def test_the_schedule_function_starts_the_journey_for_the_segment_once_per_schedule_time(
    world: Any, aws: Settings
) -> None:
    first = _fire()
    again = _fire()  # Scheduler's retry of the same firing

    assert (first["matched"], first["started"]) == (4, 4)
    assert (again["matched"], again["started"]) == (4, 0)
    executions = world.list_executions(stateMachineArn=f"{PREFIX}gold-monthly")["executions"]
    assert sorted(e["name"] for e in executions) == sorted(
        _name("gold-monthly", f"c{i}", KEY) for i in (0, 2, 4, 6)
    )
    runs = DynamoRunRepository(aws.runs_table).of_journey("c0", "gold-monthly")
    assert [(r.event_type, r.idempotency_key) for r in runs] == [("schedule", KEY)]
    started = [e for e in bootstrap.services().timeline.all("c0") if e.kind == "journey.started"]
    assert len(started) == 1


def test_the_next_month_is_a_new_run(world: Any) -> None:
    _fire()
    assert _fire("2026-07-01T09:00:00Z")["started"] == 4
