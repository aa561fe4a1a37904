"""The campaign routes over moto: a run started by `POST /v1/campaigns` is an execution of the
campaign state machine named by its run id, read back with its counts, paused, resumed and
cancelled; what the run's status does not allow is a 409, what the catalog lacks a 422."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import pytest

from baton import bootstrap
from baton.clock import FixedClock, use_clock
from baton.settings import Settings
from infra.demo import START
from tests.integration import handler_calls
from tests.integration.handler_calls import ACCOUNT, REGION, Baton

MACHINE = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:Baton-Campaigns"
IDLE = json.dumps({"StartAt": "Idle", "States": {"Idle": {"Type": "Succeed"}}})


@pytest.fixture
def baton(aws: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Baton]:
    monkeypatch.setenv("BATON_CAMPAIGN_STATE_MACHINE_ARN", MACHINE)
    boto3.client("stepfunctions", region_name=REGION).create_state_machine(
        name="Baton-Campaigns", definition=IDLE, roleArn=f"arn:aws:iam::{ACCOUNT}:role/Baton-Campaigns"
    )
    # The sample catalog's journeys are reviewed by dates in 2027: run on a day before them,
    # not today, so a journey closing for review does not depend on when the tests run.
    use_clock(FixedClock(START))
    try:
        yield handler_calls.start(aws, monkeypatch)
    finally:
        handler_calls.stop()
        use_clock(None)


def _executions() -> list[dict[str, str]]:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    return sfn.list_executions(stateMachineArn=MACHINE)["executions"]


def test_a_campaign_starts_as_an_execution_named_by_its_run_and_reads_back(baton: Baton) -> None:
    started = baton.call("POST", "/v1/campaigns", {"journey": "gold-monthly", "segment": "gold-customers"})

    assert started.status == 202, started
    run_id = started.body["run_id"]
    assert (started.body["status"], started.body["path"]) == ("scheduled", "batch")
    (execution,) = _executions()
    assert execution["name"] == run_id
    described = boto3.client("stepfunctions", region_name=REGION).describe_execution(
        executionArn=execution["executionArn"]
    )
    assert set(json.loads(described["input"])) == {"run_id", "at"}  # nobody named in it
    view = baton.call("GET", f"/v1/campaigns/{run_id}")
    assert view.status == 200
    assert {key: view.body[key] for key in ("journey", "segment", "status", "sent", "remaining")} == {
        "journey": "gold-monthly",
        "segment": "gold-customers",
        "status": "scheduled",
        "sent": 0,
        "remaining": None,  # the audience is not taken yet
    }


def test_a_run_is_paused_resumed_and_cancelled_and_what_its_status_forbids_is_a_409(baton: Baton) -> None:
    run_id = baton.call(
        "POST", "/v1/campaigns", {"journey": "gold-monthly", "segment": "gold-customers"}
    ).body["run_id"]

    assert baton.call("POST", f"/v1/campaigns/{run_id}/pause").body["status"] == "paused"
    assert baton.call("POST", f"/v1/campaigns/{run_id}/pause").status == 409
    assert baton.call("POST", f"/v1/campaigns/{run_id}/resume").body["status"] == "running"
    cancelled = baton.call("POST", f"/v1/campaigns/{run_id}/cancel")
    assert cancelled.body["status"] == "cancelled"
    again = baton.call("POST", f"/v1/campaigns/{run_id}/resume")
    assert (again.status, again.body["error"]["code"]) == (409, "campaign_cancelled")
    (execution,) = _executions()
    assert execution["status"] == "ABORTED"  # batches not begun never begin


def test_a_campaign_of_a_journey_or_segment_the_catalog_lacks_is_a_422_naming_it(baton: Baton) -> None:
    before = baton.snapshot()
    for body, field in (
        ({"journey": "no-such-journey", "segment": "gold-customers"}, "journey"),
        ({"journey": "gold-monthly", "segment": "no-such-segment"}, "segment"),
        ({"journey": "gold-monthly"}, "segment"),
        ({"journey": "gold-monthly", "segment": "gold-customers", "at": "tomorrow"}, "at"),
    ):
        answer = baton.call("POST", "/v1/campaigns", body)
        assert answer.status == 422, answer
        assert field in answer.fields, answer.body
    assert baton.snapshot() == before
    assert _executions() == []


def test_an_unknown_run_is_a_404(baton: Baton) -> None:
    for method, path in (
        ("GET", "/v1/campaigns/run-unknown"),
        ("POST", "/v1/campaigns/run-unknown/pause"),
        ("POST", "/v1/campaigns/run-unknown/cancel"),
    ):
        assert baton.call(method, path).status == 404, path


def test_a_campaign_over_a_marketing_journey_closed_for_review_is_a_409_and_starts_nothing(
    baton: Baton,
) -> None:
    # gold-monthly is due for review on 2027-04-15; after fourteen days of grace it is closed.
    use_clock(FixedClock(datetime(2027, 4, 30, 9, tzinfo=UTC)))
    bootstrap.reset()  # the services take the clock when they are built
    try:
        body = {"journey": "gold-monthly", "segment": "gold-customers"}
        refused = baton.call("POST", "/v1/campaigns", body)
    finally:
        use_clock(None)
        bootstrap.reset()

    assert refused.status == 409, refused
    error = refused.body["error"]
    assert error["code"] == "journey_closed"
    assert error["details"][0]["field"] == "journey"
    assert "due for review on 2027-04-15" in error["message"]
    assert _executions() == []
