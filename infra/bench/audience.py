"""How a campaign's audience snapshot grows with the contacts table, on the embedded AWS: the
parallel Scan and segment evaluation of `baton.campaigns.audience` over 1,000 and 10,000
contacts (a third of them in the segment), written once to S3. Prints contacts read per second
and the ratio between the two sizes (linear growth keeps it near 1). Run: `make bench`."""

from __future__ import annotations

import os
import time
from typing import Any

import boto3
from moto import mock_aws

from baton.campaigns.audience import AudienceSnapshots
from baton.journeys.segments import Segment

REGION = "us-east-1"
TABLE = "bench-contacts"
BUCKET = "bench-campaigns"
SIZES = (1_000, 10_000)
SEGMENT = Segment.model_validate(
    {"segment": "gold", "owner": "growth@example.com", "when": {"attribute": "plan", "equals": "gold"}}
)


def _load(dynamodb: Any, count: int) -> None:
    items = [
        {
            "PutRequest": {
                "Item": {
                    "contact_id": {"S": f"c-{n:07d}"},
                    "email": {"S": f"p{n}@example.com"},
                    "attributes": {"M": {"plan": {"S": "gold" if n % 3 == 0 else "basic"}}},
                }
            }
        }
        for n in range(count)
    ]
    for start in range(0, len(items), 25):
        dynamodb.batch_write_item(RequestItems={TABLE: items[start : start + 25]})


def _measure(count: int) -> tuple[float, int]:
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        dynamodb.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "contact_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "contact_id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET)
        _load(dynamodb, count)
        snapshots = AudienceSnapshots(bucket=BUCKET, contacts_table=TABLE, dynamodb=dynamodb, s3=s3)
        began = time.perf_counter()
        snapshot = snapshots.take(f"bench-{count}", SEGMENT)
        seconds = time.perf_counter() - began
        return count / seconds, snapshot.audience


def main() -> None:
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(variable, "testing")
    rates = {}
    print("Campaign audience snapshot (parallel Scan, 8 segments, on moto):")
    for count in SIZES:
        rate, audience = _measure(count)
        rates[count] = rate
        print(f"  {count:>7,} contacts: {audience:>6,} in the segment, {rate:,.0f} contacts read/s")
    small, large = SIZES
    print(
        f"  contacts read/s at {large:,} / at {small:,}: {rates[large] / rates[small]:.2f} (1.00 is linear)"
    )


if __name__ == "__main__":
    main()
