"""Where waiters live: an abstract repository, the DynamoDB one and an in-memory one.

`claim` is the conditional delete that makes resumption happen once, without a lock: of two
deliveries of the same event, only the one whose delete removed the item resumes the execution.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from baton import aws
from baton.data.items import delete_keys, from_item, partition_keys, query_items, to_item, to_value
from baton.waits.models import Waiter, wait_sort_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import QueryInputTypeDef


class WaitRepository(ABC):
    @abstractmethod
    def put(self, waiter: Waiter) -> None:
        """Store the waiter (a retried task's new token replaces the old one)."""

    @abstractmethod
    def of_event(self, contact_id: str, event_type: str) -> list[Waiter]:
        """The contact's waiters for one event type, read strongly consistent."""

    @abstractmethod
    def claim(self, waiter: Waiter) -> bool:
        """Delete the waiter if it is still stored with the same token; True if this call deleted it."""

    @abstractmethod
    def remove(self, contact_id: str, sort_key: str) -> bool:
        """Delete the waiter stored under this key, whatever its token; True if there was one."""

    @abstractmethod
    def of_contact(self, contact_id: str) -> list[Waiter]:
        """Every waiter of the contact (export)."""

    @abstractmethod
    def delete_all(self, contact_id: str) -> int:
        """Remove the contact's waiters (erasure, R-GDPR-5); returns how many."""


class DynamoWaitRepository(WaitRepository):
    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        self._table = table_name
        self._client: DynamoDBClient = client or aws.client("dynamodb")

    def put(self, waiter: Waiter) -> None:
        self._client.put_item(TableName=self._table, Item=_item(waiter))

    def of_event(self, contact_id: str, event_type: str) -> list[Waiter]:
        return self._query(
            {
                "TableName": self._table,
                "KeyConditionExpression": "contact_id = :c AND begins_with(sk, :p)",
                "ExpressionAttributeValues": {
                    ":c": to_value(contact_id),
                    ":p": to_value(wait_sort_key(event_type, "", "")),
                },
                "ConsistentRead": True,
            }
        )

    def claim(self, waiter: Waiter) -> bool:
        return self._delete(
            waiter.contact_id,
            waiter.sort_key,
            condition="#t = :t",
            names={"#t": "token"},
            values={":t": to_value(waiter.token)},
        )

    def remove(self, contact_id: str, sort_key: str) -> bool:
        return self._delete(contact_id, sort_key, condition="attribute_exists(sk)", names={}, values={})

    def of_contact(self, contact_id: str) -> list[Waiter]:
        return self._query(
            {
                "TableName": self._table,
                "KeyConditionExpression": "contact_id = :c",
                "ExpressionAttributeValues": {":c": to_value(contact_id)},
                "ConsistentRead": True,
            }
        )

    def delete_all(self, contact_id: str) -> int:
        keys = partition_keys(self._client, self._table, "contact_id", contact_id, sort_key="sk")
        delete_keys(self._client, self._table, keys)
        return len(keys)

    def _delete(
        self, contact_id: str, sort_key: str, *, condition: str, names: dict[str, str], values: dict[str, Any]
    ) -> bool:
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": {"contact_id": to_value(contact_id), "sk": to_value(sort_key)},
            "ConditionExpression": condition,
        }
        if names:
            request["ExpressionAttributeNames"] = names
        if values:
            request["ExpressionAttributeValues"] = values
        try:
            self._client.delete_item(**request)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def _query(self, request: QueryInputTypeDef) -> list[Waiter]:
        return [_waiter(from_item(item)) for item in query_items(self._client, request)]


class InMemoryWaitRepository(WaitRepository):
    """For unit tests and previews."""

    def __init__(self) -> None:
        self._waiters: dict[tuple[str, str], Waiter] = {}

    def put(self, waiter: Waiter) -> None:
        self._waiters[(waiter.contact_id, waiter.sort_key)] = waiter

    def of_event(self, contact_id: str, event_type: str) -> list[Waiter]:
        prefix = wait_sort_key(event_type, "", "")
        return [
            w for (c, sk), w in sorted(self._waiters.items()) if c == contact_id and sk.startswith(prefix)
        ]

    def claim(self, waiter: Waiter) -> bool:
        key = (waiter.contact_id, waiter.sort_key)
        stored = self._waiters.get(key)
        if stored is None or stored.token != waiter.token:
            return False
        del self._waiters[key]
        return True

    def remove(self, contact_id: str, sort_key: str) -> bool:
        return self._waiters.pop((contact_id, sort_key), None) is not None

    def of_contact(self, contact_id: str) -> list[Waiter]:
        return [w for (c, _), w in sorted(self._waiters.items()) if c == contact_id]

    def delete_all(self, contact_id: str) -> int:
        keys = [key for key in self._waiters if key[0] == contact_id]
        for key in keys:
            del self._waiters[key]
        return len(keys)


def _item(waiter: Waiter) -> dict[str, Any]:
    return to_item({**waiter.model_dump(mode="json"), "sk": waiter.sort_key})


def _waiter(item: dict[str, Any]) -> Waiter:
    item.pop("sk", None)
    return Waiter.model_validate(item)
