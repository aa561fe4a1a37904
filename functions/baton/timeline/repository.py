"""Where timeline events live: an abstract repository, the DynamoDB one and an in-memory one.

Items are keyed (contact_id, sk = `<iso-ts>#<event_id>`): the fixed-width timestamp sorts as
text, and the time-ordered event id breaks ties between events of the same instant.

A `message.sent` item also carries its two ids at the top level (`LOOKUP_ATTRIBUTES`), which
the timeline's sparse, keys-only indexes hold: a message is found by Baton's message id or the
provider's with the write that records it, and goes with the item when the contact is erased.
"""

from __future__ import annotations

import bisect
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from baton import aws
from baton.clock import to_iso
from baton.data.items import (
    delete_keys,
    from_item,
    get_items,
    partition_keys,
    put_items,
    query_items,
    to_item,
    to_value,
)
from baton.data.tables import TIMELINE
from baton.timeline.exceptions import EventExists
from baton.timeline.models import TimelineEvent, TimelineKind

# The kind whose items are found by id, and its detail fields copied to top-level attributes
# of the same name: each is the partition key of the timeline index named for it.
LOOKUP_KIND = TimelineKind.MESSAGE_SENT.value
LOOKUP_ATTRIBUTES: tuple[str, ...] = ("message_id", "provider_message_id")
_INDEX_OF = {index.partition_key: index.name for index in TIMELINE.indexes}

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import QueryInputTypeDef


def sort_key(event: TimelineEvent) -> str:
    return f"{to_iso(event.at)}#{event.event_id}"


def lookup_keys(event: TimelineEvent) -> dict[str, str]:
    """The ids a sent message is found by: its detail's, where they are non-empty text."""
    if event.kind != LOOKUP_KIND:
        return {}
    return {
        name: value
        for name in LOOKUP_ATTRIBUTES
        if isinstance(value := event.detail.get(name), str) and value
    }


def _stored(event: TimelineEvent) -> dict[str, Any]:
    return {**event.model_dump(mode="json"), **lookup_keys(event), "sk": sort_key(event)}


class TimelineRepository(ABC):
    @abstractmethod
    def add(self, event: TimelineEvent) -> None:
        """Store a new event; an existing (contact, sk) is never overwritten."""

    @abstractmethod
    def add_many(self, events: Sequence[TimelineEvent]) -> None:
        """Store new events in bulk, with fresh ids: no per-item check that one exists."""

    @abstractmethod
    def newest(self, contact_id: str, limit: int, before: str | None = None) -> list[TimelineEvent]:
        """Up to `limit` events, newest first, strictly older than sort key `before` when given."""

    @abstractmethod
    def delete_all(self, contact_id: str) -> int:
        """Remove every event of the contact (erasure, R-GDPR-5); returns how many."""

    @abstractmethod
    def sent_with(self, attribute: str, value: str) -> list[TimelineEvent]:
        """The `message.sent` events whose `attribute` (one of `LOOKUP_ATTRIBUTES`) is `value`,
        newest first."""


class DynamoTimelineRepository(TimelineRepository):
    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        self._table = table_name
        self._client: DynamoDBClient = client or aws.client("dynamodb")

    def add(self, event: TimelineEvent) -> None:
        item = _stored(event)
        try:
            self._client.put_item(
                TableName=self._table, Item=to_item(item), ConditionExpression="attribute_not_exists(sk)"
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise EventExists(f"Timeline event {event.event_id} already exists.") from exc
            raise

    def add_many(self, events: Sequence[TimelineEvent]) -> None:
        items = [to_item(_stored(event)) for event in events]
        put_items(self._client, self._table, items)

    def newest(self, contact_id: str, limit: int, before: str | None = None) -> list[TimelineEvent]:
        events: list[TimelineEvent] = []
        request: QueryInputTypeDef = {
            "TableName": self._table,
            "KeyConditionExpression": "contact_id = :c",
            "ExpressionAttributeValues": {":c": to_value(contact_id)},
            "ScanIndexForward": False,
        }
        if before is not None:
            request["ExclusiveStartKey"] = {"contact_id": to_value(contact_id), "sk": to_value(before)}
        # A query stops at 1 MB even below Limit: keep reading until the page is full or the end.
        while len(events) < limit:
            request["Limit"] = limit - len(events)
            response = self._client.query(**request)
            events.extend(_event(from_item(item)) for item in response.get("Items", []))
            last = response.get("LastEvaluatedKey")
            if not last:
                break
            request["ExclusiveStartKey"] = last
        return events

    def delete_all(self, contact_id: str) -> int:
        keys = partition_keys(self._client, self._table, "contact_id", contact_id, sort_key="sk")
        delete_keys(self._client, self._table, keys)
        return len(keys)

    def sent_with(self, attribute: str, value: str) -> list[TimelineEvent]:
        # The index holds keys only (a small entry: one write unit); the items are read after.
        keys = [
            {"contact_id": key["contact_id"], "sk": key["sk"]}
            for key in query_items(
                self._client,
                {
                    "TableName": self._table,
                    "IndexName": _INDEX_OF[attribute],
                    "KeyConditionExpression": "#a = :v",
                    "ExpressionAttributeNames": {"#a": attribute},
                    "ExpressionAttributeValues": {":v": to_value(value)},
                },
            )
        ]
        events = [_event(from_item(item)) for item in get_items(self._client, self._table, keys)]
        return sorted(events, key=sort_key, reverse=True)


class InMemoryTimelineRepository(TimelineRepository):
    """For unit tests and previews: same ordering and paging rules, no AWS."""

    def __init__(self) -> None:
        self._events: dict[str, list[tuple[str, TimelineEvent]]] = {}

    def add(self, event: TimelineEvent) -> None:
        events = self._events.setdefault(event.contact_id, [])
        key = sort_key(event)
        index = bisect.bisect_left(events, key, key=lambda pair: pair[0])
        if index < len(events) and events[index][0] == key:
            raise EventExists(f"Timeline event {event.event_id} already exists.")
        events.insert(index, (key, event))

    def add_many(self, events: Sequence[TimelineEvent]) -> None:
        for event in events:
            self.add(event)

    def newest(self, contact_id: str, limit: int, before: str | None = None) -> list[TimelineEvent]:
        ordered = reversed(self._events.get(contact_id, []))
        return [event for key, event in ordered if before is None or key < before][:limit]

    def delete_all(self, contact_id: str) -> int:
        return len(self._events.pop(contact_id, []))

    def sent_with(self, attribute: str, value: str) -> list[TimelineEvent]:
        found = [
            (key, event)
            for events in self._events.values()
            for key, event in events
            if lookup_keys(event).get(attribute) == value
        ]
        return [event for _, event in sorted(found, key=lambda pair: pair[0], reverse=True)]


def _event(item: dict[str, Any]) -> TimelineEvent:
    for name in ("sk", *LOOKUP_ATTRIBUTES):
        item.pop(name, None)
    return TimelineEvent.model_validate(item)
