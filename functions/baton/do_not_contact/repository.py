"""Where do-not-contact lists live: one generation of salted hashes per load, and a pointer to
the generation in force (see `baton.data.tables.DO_NOT_CONTACT` for the key layout)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from baton import aws
from baton.clock import to_iso
from baton.data.items import (
    delete_keys,
    from_item,
    put_if,
    put_items,
    query_items,
    to_item,
    to_value,
)
from baton.do_not_contact.models import ListStatus, PartRecord

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_CURRENT = "CURRENT"
_GENERATION = "GENERATION#"
# A part's record sits in its generation's partition, beside the entries (lowercase hex hashes,
# so never `PART#...`): discarding the generation deletes its parts too.
_PART = "PART#"


class DoNotContactRepository(ABC):
    @abstractmethod
    def current(self, name: str) -> ListStatus | None:
        """The generation in force, read strongly consistent; None before the first load."""

    @abstractmethod
    def begin(self, status: ListStatus) -> None:
        """Record that a load of this generation started (so a later load can delete it)."""

    @abstractmethod
    def begun(self, name: str, generation: str) -> bool:
        """Whether a load of this generation was begun and not yet discarded."""

    @abstractmethod
    def write(self, name: str, generation: str, hashes: Iterable[str]) -> None:
        """Store the generation's entries; nothing reads them before `switch`."""

    @abstractmethod
    def record_part(self, name: str, generation: str, record: PartRecord) -> None:
        """Record that a part's entries are all stored (written after them, never before)."""

    @abstractmethod
    def part(self, name: str, generation: str, part: int) -> PartRecord | None:
        """The record of one part of the load, read strongly consistent; None before it is stored."""

    @abstractmethod
    def parts(self, name: str, generation: str) -> list[PartRecord]:
        """Every part of the load stored so far, read strongly consistent, in part order."""

    @abstractmethod
    def switch(self, status: ListStatus) -> bool:
        """Put the generation in force unless a newer one already is; False when it is not."""

    @abstractmethod
    def contains(self, name: str, generation: str, number_hash: str) -> bool:
        """Whether the generation holds the hash, read strongly consistent."""

    @abstractmethod
    def generations(self, name: str) -> list[str]:
        """Every generation begun and not yet discarded, oldest first."""

    @abstractmethod
    def discard(self, name: str, generation: str, limit: int) -> int:
        """Delete at most `limit` of the generation's entries and parts, and its record once none
        is left; the number deleted (below `limit`: the generation is gone)."""


class DynamoDoNotContactRepository(DoNotContactRepository):
    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        self._table = table_name
        self._client: DynamoDBClient = client or aws.client("dynamodb")

    def current(self, name: str) -> ListStatus | None:
        response = self._client.get_item(
            TableName=self._table, Key=_key(_list_pk(name), _CURRENT), ConsistentRead=True
        )
        item = response.get("Item")
        if not item:
            return None
        values = from_item(item)
        return ListStatus(
            list=name, generation=values["generation"], loaded_at=values["loaded_at"], count=values["count"]
        )

    def begin(self, status: ListStatus) -> None:
        self._client.put_item(
            TableName=self._table,
            Item=to_item(
                {"pk": _list_pk(status.list), "sk": _GENERATION + status.generation, **_fields(status)}
            ),
        )

    def begun(self, name: str, generation: str) -> bool:
        response = self._client.get_item(
            TableName=self._table,
            Key=_key(_list_pk(name), _GENERATION + generation),
            ProjectionExpression="pk",
            ConsistentRead=True,
        )
        return "Item" in response

    def write(self, name: str, generation: str, hashes: Iterable[str]) -> None:
        pk = _entries_pk(name, generation)
        put_items(self._client, self._table, [_key(pk, number_hash) for number_hash in hashes])

    def record_part(self, name: str, generation: str, record: PartRecord) -> None:
        self._client.put_item(
            TableName=self._table,
            Item=to_item(
                {
                    "pk": _entries_pk(name, generation),
                    "sk": _part_sk(record.part),
                    "part": record.part,
                    "received": record.received,
                    "count": record.count,
                    "digest": record.digest,
                }
            ),
        )

    def part(self, name: str, generation: str, part: int) -> PartRecord | None:
        response = self._client.get_item(
            TableName=self._table,
            Key=_key(_entries_pk(name, generation), _part_sk(part)),
            ConsistentRead=True,
        )
        item = response.get("Item")
        return _part_record(item) if item else None

    def parts(self, name: str, generation: str) -> list[PartRecord]:
        items = query_items(
            self._client,
            {
                "TableName": self._table,
                "KeyConditionExpression": "pk = :pk AND begins_with(sk, :p)",
                "ExpressionAttributeValues": {
                    ":pk": to_value(_entries_pk(name, generation)),
                    ":p": to_value(_PART),
                },
                "ConsistentRead": True,
            },
        )
        return [_part_record(item) for item in items]

    def switch(self, status: ListStatus) -> bool:
        return put_if(
            self._client,
            {
                "TableName": self._table,
                "Item": to_item({"pk": _list_pk(status.list), "sk": _CURRENT, **_fields(status)}),
                # Generation ids sort by load time: a load that began earlier never replaces a later one.
                "ConditionExpression": "attribute_not_exists(pk) OR generation < :g",
                "ExpressionAttributeValues": {":g": to_value(status.generation)},
            },
        )

    def contains(self, name: str, generation: str, number_hash: str) -> bool:
        response = self._client.get_item(
            TableName=self._table,
            Key=_key(_entries_pk(name, generation), number_hash),
            ProjectionExpression="pk",
            ConsistentRead=True,
        )
        return "Item" in response

    def generations(self, name: str) -> list[str]:
        items = query_items(
            self._client,
            {
                "TableName": self._table,
                "KeyConditionExpression": "pk = :pk AND begins_with(sk, :g)",
                "ExpressionAttributeValues": {":pk": to_value(_list_pk(name)), ":g": to_value(_GENERATION)},
                "ProjectionExpression": "sk",
                "ConsistentRead": True,
            },
        )
        return [str(from_item(item)["sk"]).removeprefix(_GENERATION) for item in items]

    def discard(self, name: str, generation: str, limit: int) -> int:
        response = self._client.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": to_value(_entries_pk(name, generation))},
            ProjectionExpression="pk, sk",
            ConsistentRead=True,
            Limit=limit,
        )
        keys = response.get("Items", [])
        delete_keys(self._client, self._table, keys)
        if len(keys) < limit and "LastEvaluatedKey" not in response:
            # The record goes last: a discard cut short is found and finished by a later request.
            self._client.delete_item(
                TableName=self._table, Key=_key(_list_pk(name), _GENERATION + generation)
            )
            return len(keys)
        return limit  # more are left (a page may stop short of `limit`): this request's share is done


def _list_pk(name: str) -> str:
    return f"LIST#{name}"


def _entries_pk(name: str, generation: str) -> str:
    return f"{name}#{generation}"


def _part_sk(part: int) -> str:
    return f"{_PART}{part:05d}"  # zero-padded: parts sort by number


def _part_record(item: dict[str, Any]) -> PartRecord:
    values = from_item(item)
    return PartRecord(
        part=values["part"], received=values["received"], count=values["count"], digest=values["digest"]
    )


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": to_value(pk), "sk": to_value(sk)}


def _fields(status: ListStatus) -> dict[str, object]:
    return {"generation": status.generation, "loaded_at": to_iso(status.loaded_at), "count": status.count}
