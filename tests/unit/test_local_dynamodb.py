"""The embedded AWS's partition queries: the same answers as moto's own Query (conditions,
order, filters, limits, pages), reading only the asked partition."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from moto import mock_aws
from moto.dynamodb.models.table import Table

from infra.local.dynamodb import partition_queries

REGION = "us-east-1"


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with mock_aws():
        dynamodb = boto3.client(
            "dynamodb", region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
        )
        dynamodb.create_table(
            TableName="timeline",
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        dynamodb.create_table(
            TableName="contacts",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        for contact in range(20):
            dynamodb.put_item(
                TableName="contacts", Item={"pk": {"S": f"c{contact}"}, "n": {"N": str(contact)}}
            )
            for entry in range(contact % 7):
                dynamodb.put_item(
                    TableName="timeline",
                    Item={
                        "pk": {"S": f"c{contact}"},
                        "sk": {"S": f"2026-05-0{entry + 1}#{entry}"},
                        "kind": {"S": "message.sent" if entry % 2 else "journey.started"},
                    },
                )
        yield dynamodb


QUERIES = st.fixed_dictionaries(
    {
        "contact": st.integers(0, 21),  # 20 and 21: partitions with no items
        "forward": st.booleans(),
        "limit": st.one_of(st.none(), st.integers(1, 4)),
        "since": st.one_of(st.none(), st.sampled_from(["2026-05-02", "2026-05-04"])),
        "sent_only": st.booleans(),
    }
)


def _pages(client: Any, table: str, query: dict[str, Any]) -> list[list[dict[str, Any]]]:
    kwargs: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": f"c{query['contact']}"}},
        "ConsistentRead": True,
    }
    if table == "timeline":
        kwargs["ScanIndexForward"] = query["forward"]
        if query["since"]:
            kwargs["KeyConditionExpression"] += " AND sk >= :since"
            kwargs["ExpressionAttributeValues"][":since"] = {"S": query["since"]}
        if query["sent_only"]:
            kwargs["FilterExpression"] = "kind = :kind"
            kwargs["ExpressionAttributeValues"][":kind"] = {"S": "message.sent"}
    if query["limit"]:
        kwargs["Limit"] = query["limit"]
    pages = []
    while True:
        page = client.query(**kwargs)
        pages.append(page["Items"])
        if "LastEvaluatedKey" not in page:
            return pages
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@settings(derandomize=True, max_examples=60, deadline=None)
@given(query=QUERIES, table=st.sampled_from(["timeline", "contacts"]))
def test_a_partition_query_answers_what_moto_answers(client: Any, query: dict[str, Any], table: str) -> None:
    expected = _pages(client, table, query)

    with partition_queries():
        answered = _pages(client, table, query)

    assert answered == expected


def test_a_partition_query_reads_only_its_partition_and_a_scan_still_reads_every_item(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    read: list[int] = []
    original = Table.all_items

    def counting(self: Table) -> Any:
        items = original(self)
        read.append(len(items))
        return items

    monkeypatch.setattr(Table, "all_items", counting)
    with partition_queries():
        client.query(
            TableName="timeline",
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": "c6"}},
        )
        assert read == []  # the partition's own items, not the table's
        scanned = client.scan(TableName="timeline")["Items"]

    assert len(scanned) == sum(contact % 7 for contact in range(20))
    assert read
    assert read[-1] == len(scanned)
