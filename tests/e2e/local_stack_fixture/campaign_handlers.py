"""Test-only stand-in for CampaignFunction, behind the campaign state machine as the CDK app
synthesizes it (`infra.bench.distributed_map.campaign_template`): `snapshot` writes the run's
batch items (a JSON array) to the bucket and answers where; `batch` records the call and
raises what the test planned (paused, unfinished, a failure); `finish` and `fail` record the
run's end."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Final

import boto3

from baton.clock import process_clock, to_iso

HANDLER: Final = "tests.e2e.local_stack_fixture.campaign_handlers.handler"
BUCKET_ENV: Final = "BATON_CAMPAIGNS_BUCKET"
BATCH_SIZE: Final = 100


class CampaignPaused(Exception):
    pass


class BatchUnfinished(Exception):
    pass


class ProviderRejected(Exception):
    pass


CampaignPaused.__name__ = "Baton.CampaignPaused"
BatchUnfinished.__name__ = "Baton.BatchUnfinished"


@dataclass
class Plan:
    """What one run's batches do."""

    batches: int
    paused: bool = False  # every batch raises CampaignPaused while set
    paused_batches: set[int] = field(default_factory=set)  # these alone raise it, while listed
    unfinished: dict[int, int] = field(default_factory=dict)  # batch -> times it runs out of time
    failing: set[int] = field(default_factory=set)  # batches that fail outright


PLANS: dict[str, Plan] = {}
# Every call, oldest first: action, run, batch, retry count, virtual time.
CALLS: list[dict[str, Any]] = []


def calls(action: str, run_id: str) -> list[dict[str, Any]]:
    return [c for c in CALLS if c["action"] == action and c["run_id"] == run_id]


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    action, run_id = event["action"], event["run_id"]
    plan = PLANS[run_id]
    CALLS.append(
        {
            "action": action,
            "run_id": run_id,
            "batch": event.get("batch"),
            "contacts": len(event.get("contacts", [])),
            "retry_count": event.get("retry_count"),
            "error": event.get("error"),
            "at": to_iso(process_clock().now()),
        }
    )
    if action == "snapshot":
        return _snapshot(run_id, plan)
    if action == "batch":
        batch = int(event["batch"])
        if plan.paused or batch in plan.paused_batches:
            raise CampaignPaused(f"run {run_id} is paused")
        if plan.unfinished.get(batch, 0) > 0:
            plan.unfinished[batch] -= 1
            raise BatchUnfinished(f"batch {batch} ran out of time")
        if batch in plan.failing:
            raise ProviderRejected(f"batch {batch} failed")
        return {"batch": batch, "sent": len(event["contacts"])}
    return {"run_id": run_id, action: True}


def _snapshot(run_id: str, plan: Plan) -> dict[str, Any]:
    bucket = os.environ[BUCKET_ENV]
    key = f"campaigns/{run_id}/batches.json"
    items = [
        {"batch": n, "contacts": [f"{run_id}-c{n * BATCH_SIZE + i}" for i in range(BATCH_SIZE)]}
        for n in range(plan.batches)
    ]
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=json.dumps(items).encode())
    return {"bucket": bucket, "key": key, "audience": plan.batches * BATCH_SIZE, "batches": plan.batches}
