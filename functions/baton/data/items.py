"""Helpers for repositories on the low-level DynamoDB client: value conversion, batch writes
and whole-partition deletes.

DynamoDB has no float type and returns every number as `Decimal`: floats go in as `Decimal`
(via their shortest repr, so 0.1 stays 0.1) and numbers come back as `int` or `float`.
Attributes whose value is None are left out, so a sparse index never sees a NULL key.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import (
        AttributeValueTypeDef,
        KeysAndAttributesTypeDef,
        PutItemInputTypeDef,
        QueryInputTypeDef,
        UpdateItemInputTypeDef,
        WriteRequestTypeDef,
    )

_BATCH_WRITE_LIMIT = 25
_BATCH_GET_LIMIT = 100
_UNPROCESSED_ATTEMPTS = 8
_BACKOFF_BASE_S = 0.05
_BACKOFF_CAP_S = 2.0
# How a retry waits (R-REL-4: capped exponential backoff, full jitter); tests put a recorder here.
sleep: Callable[[float], None] = time.sleep

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _to_dynamo(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, Mapping):
        return {str(key): _to_dynamo(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_to_dynamo(item) for item in value]
    return value


def _from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Mapping):
        return {key: _from_dynamo(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_from_dynamo(item) for item in value]
    return value


def to_item(values: Mapping[str, Any]) -> dict[str, AttributeValueTypeDef]:
    """A DynamoDB item from a flat mapping; None-valued attributes are omitted."""
    return {
        key: _serializer.serialize(_to_dynamo(value)) for key, value in values.items() if value is not None
    }


def to_value(value: Any) -> AttributeValueTypeDef:
    """One attribute value (for keys and expression values)."""
    result: AttributeValueTypeDef = _serializer.serialize(_to_dynamo(value))
    return result


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """Plain Python values from a DynamoDB item."""
    return {key: _from_dynamo(_deserializer.deserialize(value)) for key, value in item.items()}


Key = dict[str, "AttributeValueTypeDef"]


class UnprocessedWrites(Exception):
    """DynamoDB kept refusing part of a batch (throttling) after every retry."""


def partition_keys(
    client: DynamoDBClient, table: str, partition_key: str, value: str, sort_key: str | None = None
) -> list[Key]:
    """Every key in one partition (strongly consistent), e.g. all items of a contact before erasure."""
    names = {"#pk": partition_key}
    if sort_key:
        names["#sk"] = sort_key
    request: QueryInputTypeDef = {
        "TableName": table,
        "KeyConditionExpression": "#pk = :v",
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": {":v": to_value(value)},
        "ProjectionExpression": ", ".join(names),
        "ConsistentRead": True,
    }
    return list(query_items(client, request))


# Tables keyed by something else find a contact's items through this index on `contact_id`.
CONTACT_INDEX = "by_contact"


def contact_items(client: DynamoDBClient, table: str, contact_id: str) -> Iterator[Key]:
    """Every item of `table` about the contact, through its `by_contact` index (eventually
    consistent, as every index is): for export and erasure."""
    return query_items(
        client,
        {
            "TableName": table,
            "IndexName": CONTACT_INDEX,
            "KeyConditionExpression": "contact_id = :c",
            "ExpressionAttributeValues": {":c": to_value(contact_id)},
        },
    )


def query_items(client: DynamoDBClient, request: QueryInputTypeDef) -> Iterator[Key]:
    """Every item a query matches, page after page (the raw DynamoDB items)."""
    page = dict(request)
    while True:
        response = client.query(**page)  # type: ignore[arg-type]
        yield from response.get("Items", [])
        last = response.get("LastEvaluatedKey")
        if not last:
            return
        page["ExclusiveStartKey"] = last


def put_if(client: DynamoDBClient, request: PutItemInputTypeDef) -> bool:
    """Put an item if its `ConditionExpression` holds; False, writing nothing, when it does not."""
    return _if_condition_holds(lambda: client.put_item(**request))


def update_if(client: DynamoDBClient, request: UpdateItemInputTypeDef) -> bool:
    """Update an item if its `ConditionExpression` holds; False, writing nothing, when it does not."""
    return _if_condition_holds(lambda: client.update_item(**request))


def _if_condition_holds(write: Callable[[], object]) -> bool:
    try:
        write()
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return False
        raise
    return True


def delete_keys(client: DynamoDBClient, table: str, keys: Sequence[Key]) -> None:
    """Delete items in batches of 25, re-sending what DynamoDB left unprocessed (with backoff)."""
    _batch_write(client, table, [{"DeleteRequest": {"Key": key}} for key in keys], "deletes")


def put_items(client: DynamoDBClient, table: str, items: Sequence[Key]) -> None:
    """Put items in batches of 25, re-sending what DynamoDB left unprocessed (with backoff)."""
    _batch_write(client, table, [{"PutRequest": {"Item": item}} for item in items], "puts")


def _batch_write(
    client: DynamoDBClient, table: str, requests: Sequence[WriteRequestTypeDef], what: str
) -> None:
    """Every request written: what DynamoDB leaves unprocessed (throttling, a busy partition)
    is sent again after a backoff, never dropped; after the last attempt `UnprocessedWrites`."""
    for start in range(0, len(requests), _BATCH_WRITE_LIMIT):
        pending: Sequence[WriteRequestTypeDef] = requests[start : start + _BATCH_WRITE_LIMIT]
        for attempt in range(_UNPROCESSED_ATTEMPTS):
            response = client.batch_write_item(RequestItems={table: pending})
            pending = cast(
                "Sequence[WriteRequestTypeDef]", response.get("UnprocessedItems", {}).get(table, [])
            )
            if not pending:
                break
            sleep(_backoff(attempt))
        else:
            raise UnprocessedWrites(f"DynamoDB left {len(pending)} {what} unprocessed in {table}.")


def get_items(client: DynamoDBClient, table: str, keys: Sequence[Key]) -> list[Key]:
    """The items with these keys that exist, read strongly consistent, 100 keys a call; keys
    DynamoDB leaves unprocessed are asked again after a backoff (as `_batch_write` does)."""
    found: list[Key] = []
    for start in range(0, len(keys), _BATCH_GET_LIMIT):
        request: KeysAndAttributesTypeDef = {
            "Keys": list(keys[start : start + _BATCH_GET_LIMIT]),
            "ConsistentRead": True,
        }
        for attempt in range(_UNPROCESSED_ATTEMPTS):
            response = client.batch_get_item(RequestItems={table: request})
            found.extend(response.get("Responses", {}).get(table, []))
            unprocessed = response.get("UnprocessedKeys", {}).get(table)
            if not unprocessed or not unprocessed.get("Keys"):
                break
            request = {"Keys": list(unprocessed["Keys"]), "ConsistentRead": True}
            sleep(_backoff(attempt))
        else:
            raise UnprocessedWrites(f"DynamoDB left {len(request['Keys'])} reads unprocessed in {table}.")
    return found


def _backoff(attempt: int) -> float:
    # Full jitter: concurrent writers that were throttled together do not retry together.
    return random.uniform(0, min(_BACKOFF_CAP_S, _BACKOFF_BASE_S * 2**attempt))  # noqa: S311 (not a secret)
