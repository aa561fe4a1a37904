"""A campaign run's audience on the embedded AWS: the contacts table read with a parallel Scan,
the segment's matches written once as JSON lines to S3, and the same snapshot answered to every
retry of the run."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from baton.campaigns.audience import AudienceSnapshots, snapshot_key
from baton.journeys.segments import Segment
from baton.settings import Settings
from tests.integration.conftest import REGION

BUCKET = "baton-campaigns-test"
GOLD = Segment.model_validate(
    {"segment": "gold", "owner": "growth@example.com", "when": {"attribute": "plan", "equals": "gold"}}
)


@pytest.fixture
def s3(aws: Settings) -> Any:
    client = boto3.client("s3", region_name=REGION)
    client.create_bucket(Bucket=BUCKET)
    return client


def _contacts(aws: Settings, count: int) -> None:
    """`count` contacts, every third on the gold plan (written straight to the table)."""
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    for n in range(count):
        plan = "gold" if n % 3 == 0 else "basic"
        dynamodb.put_item(
            TableName=aws.contacts_table,
            Item={
                "contact_id": {"S": f"c-{n:04d}"},
                "email": {"S": f"p{n}@example.com"},
                "attributes": {"M": {"plan": {"S": plan}}},
            },
        )


def _snapshots(aws: Settings, s3: Any, **overrides: Any) -> AudienceSnapshots:
    options: dict[str, Any] = {
        "segments": 4,
        "page_size": 7,
        "dynamodb": boto3.client("dynamodb", region_name=REGION),
        **overrides,
    }
    return AudienceSnapshots(bucket=BUCKET, contacts_table=aws.contacts_table, s3=s3, **options)


def test_the_segments_contacts_are_written_once_sorted_in_numbered_batches(aws: Settings, s3: Any) -> None:
    _contacts(aws, 100)

    snapshot = _snapshots(aws, s3, batch_size=10).take("run-1", GOLD)

    gold = sorted(f"c-{n:04d}" for n in range(0, 100, 3))
    assert (snapshot.audience, snapshot.batches, snapshot.scanned, snapshot.created) == (
        len(gold),
        4,
        100,
        True,
    )
    assert snapshot.key == snapshot_key("run-1")
    stored = s3.get_object(Bucket=BUCKET, Key=snapshot.key)
    text = stored["Body"].read().decode()
    assert json.loads(text) == [
        {"batch": number, "contacts": gold[number * 10 : number * 10 + 10]} for number in range(4)
    ]
    assert stored["ContentType"] == "application/json"
    # ids only: no address or name of anyone leaves the contacts table
    assert "@" not in text
    assert list(_snapshots(aws, s3).contact_ids(snapshot.key)) == gold


def test_every_part_of_the_table_is_read_by_its_own_worker(aws: Settings, s3: Any) -> None:
    _contacts(aws, 30)
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    segments: list[tuple[int, int]] = []

    def remember(params: dict[str, Any], **_: Any) -> None:
        segments.append((params["Segment"], params["TotalSegments"]))

    dynamodb.meta.events.register("provide-client-params.dynamodb.Scan", remember)

    snapshot = _snapshots(aws, s3, dynamodb=dynamodb).take("run-2", None)

    assert snapshot.audience == 30  # no segment: everyone
    assert {number for number, _ in segments} == {0, 1, 2, 3}
    assert {total for _, total in segments} == {4}


def test_a_retried_run_reads_the_audience_it_began_with(aws: Settings, s3: Any) -> None:
    _contacts(aws, 30)
    first = _snapshots(aws, s3).take("run-3", GOLD)
    _contacts(aws, 60)  # thirty more contacts, ten of them gold, since the run began

    again = _snapshots(aws, s3).take("run-3", GOLD)

    assert (again.audience, again.scanned, again.created) == (first.audience, 0, False)
    assert len(list(_snapshots(aws, s3).contact_ids(again.key))) == 10


def test_two_invocations_taking_the_same_snapshot_keep_the_first_ones(aws: Settings, s3: Any) -> None:
    # given another invocation of the run wrote the snapshot between this one's check and write
    _contacts(aws, 12)
    stubbed = boto3.client("s3", region_name=REGION)
    stubber = Stubber(stubbed)
    stubber.add_client_error("head_object", service_error_code="404", http_status_code=404)
    stubber.add_client_error("put_object", service_error_code="PreconditionFailed", http_status_code=412)
    stubber.add_response(
        "head_object",
        {"Metadata": {"audience": "4", "batches": "1"}},
        {"Bucket": BUCKET, "Key": snapshot_key("run-4")},
    )

    with stubber:
        snapshot = _snapshots(aws, stubbed).take("run-4", GOLD)

    assert (snapshot.audience, snapshot.batches, snapshot.created) == (4, 1, False)
    stubber.assert_no_pending_responses()
