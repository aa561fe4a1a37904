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
    partition_keys,
    put_if,
    put_items,
    query_items,
    to_item,
    to_value,
)
from baton.do_not_contact.models import ListStatus

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_CURRENT = "CURRENT"
_GENERATION = "GENERATION#"


class DoNotContactRepository(ABC):
    @abstractmethod
    def current(self, name: str) -> ListStatus | None:
        """The generation in force, read strongly consistent; None before the first load."""

    @abstractmethod
    def begin(self, status: ListStatus) -> None:
        """Record that a load of this generation started (so a later load can delete it)."""

    @abstractmethod
    def write(self, name: str, generation: str, hashes: Iterable[str]) -> None:
        """Store the generation's entries; nothing reads them before `switch`."""

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
    def discard(self, name: str, generation: str) -> None:
        """Delete the generation's entries, then its record."""


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

    def write(self, name: str, generation: str, hashes: Iterable[str]) -> None:
        pk = _entries_pk(name, generation)
        put_items(self._client, self._table, [_key(pk, number_hash) for number_hash in hashes])

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

    def discard(self, name: str, generation: str) -> None:
        keys = partition_keys(self._client, self._table, "pk", _entries_pk(name, generation), "sk")
        delete_keys(self._client, self._table, keys)
        # The record goes last: a discard cut short is found and finished by the next load.
        self._client.delete_item(TableName=self._table, Key=_key(_list_pk(name), _GENERATION + generation))


def _list_pk(name: str) -> str:
    return f"LIST#{name}"


def _entries_pk(name: str, generation: str) -> str:
    return f"{name}#{generation}"


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": to_value(pk), "sk": to_value(sk)}


def _fields(status: ListStatus) -> dict[str, object]:
    return {"generation": status.generation, "loaded_at": to_iso(status.loaded_at), "count": status.count}
