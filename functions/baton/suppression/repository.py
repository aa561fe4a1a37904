"""Where suppression entries live: an abstract repository, the DynamoDB one and an in-memory one."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

from baton import aws
from baton.data.items import from_item, put_if, to_item, to_value
from baton.suppression.models import SuppressionEntry

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class SuppressionRepository(ABC):
    @abstractmethod
    def put(self, entry: SuppressionEntry) -> None:
        """Store the entry, replacing any earlier one for the same hash (the latest reason wins)."""

    @abstractmethod
    def put_first(self, entry: SuppressionEntry) -> bool:
        """Store the entry unless the hash is already suppressed for the same reason; True when
        the entry in force carries this entry's `claim` (this call stored it, or an earlier call
        under the same claim did; of two claims at the same time, exactly one)."""

    @abstractmethod
    def get(self, address_hash: str) -> SuppressionEntry | None:
        """The entry for a hash, read strongly consistent (a suppression counts at once)."""

    @abstractmethod
    def delete(self, address_hash: str) -> SuppressionEntry | None:
        """Remove the entry; returns what was removed, None when there was none."""


class DynamoSuppressionRepository(SuppressionRepository):
    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        self._table = table_name
        self._client: DynamoDBClient = client or aws.client("dynamodb")

    def put(self, entry: SuppressionEntry) -> None:
        self._client.put_item(TableName=self._table, Item=to_item(entry.model_dump(mode="json")))

    def put_first(self, entry: SuppressionEntry) -> bool:
        stored = put_if(
            self._client,
            {
                "TableName": self._table,
                "Item": to_item(entry.model_dump(mode="json")),
                "ConditionExpression": "attribute_not_exists(address_hash) OR #r <> :r",
                "ExpressionAttributeNames": {"#r": "reason"},
                "ExpressionAttributeValues": {":r": to_value(str(entry.reason))},
            },
        )
        return stored or _same_claim(self.get(entry.address_hash), entry)

    def get(self, address_hash: str) -> SuppressionEntry | None:
        response = self._client.get_item(
            TableName=self._table, Key={"address_hash": to_value(address_hash)}, ConsistentRead=True
        )
        item = response.get("Item")
        return SuppressionEntry.model_validate(from_item(item)) if item else None

    def delete(self, address_hash: str) -> SuppressionEntry | None:
        response = self._client.delete_item(
            TableName=self._table, Key={"address_hash": to_value(address_hash)}, ReturnValues="ALL_OLD"
        )
        item = response.get("Attributes")
        return SuppressionEntry.model_validate(from_item(item)) if item else None


class InMemorySuppressionRepository(SuppressionRepository):
    """For unit tests and previews."""

    def __init__(self) -> None:
        self._entries: dict[str, SuppressionEntry] = {}

    def put(self, entry: SuppressionEntry) -> None:
        self._entries[entry.address_hash] = entry

    def put_first(self, entry: SuppressionEntry) -> bool:
        current = self._entries.get(entry.address_hash)
        if current is not None and current.reason == entry.reason:
            return _same_claim(current, entry)
        self._entries[entry.address_hash] = entry
        return True

    def get(self, address_hash: str) -> SuppressionEntry | None:
        return self._entries.get(address_hash)

    def delete(self, address_hash: str) -> SuppressionEntry | None:
        return self._entries.pop(address_hash, None)


def _same_claim(stored: SuppressionEntry | None, entry: SuppressionEntry) -> bool:
    """Whether the entry in force was made by the same act as `entry` (a retry of it)."""
    return (
        stored is not None
        and stored.reason == entry.reason
        and entry.claim is not None
        and stored.claim == entry.claim
    )
