"""Where contacts live: an abstract repository, the DynamoDB one and an in-memory one.

One item per contact keyed `contact_id`; sparse GSIs `by_email` and `by_phone` (an absent
address is left out of the item, never stored as null). Writes are conditional on the
version read, so two concurrent upserts cannot silently overwrite each other.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from baton import aws
from baton.contacts.exceptions import StaleContact
from baton.contacts.models import ContactRecord
from baton.data.items import from_item, query_items, to_item, to_value

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import PutItemInputTypeDef, QueryInputTypeDef

EMAIL_INDEX = "by_email"
PHONE_INDEX = "by_phone"
PENDING_PHONE_INDEX = "by_pending_phone"
BATCH_GET_KEYS: Final = 100  # BatchGetItem's most keys a request
_UNPROCESSED_ATTEMPTS: Final = 8


class UnprocessedReads(Exception):
    """DynamoDB kept leaving part of a batch read unprocessed (throttling) after every retry."""


class ContactRepository(ABC):
    @abstractmethod
    def get(self, contact_id: str) -> ContactRecord | None:
        """The contact, read strongly consistent."""

    @abstractmethod
    def put(self, record: ContactRecord, expected_version: int | None) -> None:
        """Store the record over `expected_version` (None: it must not exist yet); raises `StaleContact`."""

    @abstractmethod
    def find_by_email(self, email: str) -> list[ContactRecord]:
        """Contacts whose stored (lower-cased) email equals `email`."""

    @abstractmethod
    def find_by_phone(self, phone: str) -> list[ContactRecord]:
        """Contacts whose stored E.164 phone equals `phone`."""

    @abstractmethod
    def find_by_pending_phone(self, phone: str) -> list[ContactRecord]:
        """Contacts waiting for this E.164 number to confirm itself (`pending_phone`)."""

    @abstractmethod
    def delete(self, contact_id: str) -> bool:
        """Remove the contact item; True when there was one."""

    @abstractmethod
    def generations(self, contact_ids: Sequence[str]) -> dict[str, str | None]:
        """The generation of each contact that exists (absent: erased or never made), read
        strongly consistent in as few requests as the batch read allows."""


class DynamoContactRepository(ContactRepository):
    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        self._table = table_name
        self._client: DynamoDBClient = client or aws.client("dynamodb")

    def get(self, contact_id: str) -> ContactRecord | None:
        response = self._client.get_item(
            TableName=self._table, Key={"contact_id": to_value(contact_id)}, ConsistentRead=True
        )
        item = response.get("Item")
        return ContactRecord.model_validate(from_item(item)) if item else None

    def put(self, record: ContactRecord, expected_version: int | None) -> None:
        request: PutItemInputTypeDef = {
            "TableName": self._table,
            "Item": to_item(record.model_dump(mode="json")),
        }
        if expected_version is None:
            request["ConditionExpression"] = "attribute_not_exists(contact_id)"
        else:
            request["ConditionExpression"] = "version = :expected"
            request["ExpressionAttributeValues"] = {":expected": to_value(expected_version)}
        try:
            self._client.put_item(**request)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise StaleContact(record.contact_id) from exc
            raise

    def find_by_email(self, email: str) -> list[ContactRecord]:
        return self._find(EMAIL_INDEX, "email", email)

    def find_by_phone(self, phone: str) -> list[ContactRecord]:
        return self._find(PHONE_INDEX, "phone", phone)

    def find_by_pending_phone(self, phone: str) -> list[ContactRecord]:
        return self._find(PENDING_PHONE_INDEX, "pending_phone", phone)

    def delete(self, contact_id: str) -> bool:
        response = self._client.delete_item(
            TableName=self._table, Key={"contact_id": to_value(contact_id)}, ReturnValues="ALL_OLD"
        )
        return bool(response.get("Attributes"))

    def generations(self, contact_ids: Sequence[str]) -> dict[str, str | None]:
        found: dict[str, str | None] = {}
        unique = sorted(set(contact_ids))
        for start in range(0, len(unique), BATCH_GET_KEYS):
            keys: list[Any] = [
                {"contact_id": to_value(cid)} for cid in unique[start : start + BATCH_GET_KEYS]
            ]
            request: dict[str, Any] = {
                self._table: {
                    "Keys": keys,
                    "ConsistentRead": True,
                    "ProjectionExpression": "contact_id, generation",
                }
            }
            for attempt in range(_UNPROCESSED_ATTEMPTS):
                response = self._client.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(self._table, []):
                    values = from_item(item)
                    generation = values.get("generation")
                    found[str(values["contact_id"])] = str(generation) if generation else None
                request = dict(response.get("UnprocessedKeys") or {})
                if not request:
                    break
                time.sleep(min(0.05 * 2**attempt, 1.0))  # DynamoDB asked to slow down
            else:
                raise UnprocessedReads(f"{self._table}: keys left unread after {_UNPROCESSED_ATTEMPTS} tries")
        return found

    def _find(self, index: str, attribute: str, value: str) -> list[ContactRecord]:
        # The index gives ids only (whatever its projection); each contact is then read
        # strongly consistent, so a caller never acts on a stale profile.
        request: QueryInputTypeDef = {
            "TableName": self._table,
            "IndexName": index,
            "KeyConditionExpression": "#a = :v",
            "ExpressionAttributeNames": {"#a": attribute},
            "ExpressionAttributeValues": {":v": to_value(value)},
            "ProjectionExpression": "contact_id",
        }
        ids = [str(from_item(item)["contact_id"]) for item in query_items(self._client, request)]
        records = (self.get(contact_id) for contact_id in sorted(set(ids)))
        # Re-checked: the index lags the table, so a just-changed address may still point here.
        return [record for record in records if record and getattr(record, attribute) == value]


class InMemoryContactRepository(ContactRepository):
    """For unit tests and previews: same version rule, no AWS."""

    def __init__(self) -> None:
        self._records: dict[str, ContactRecord] = {}

    def get(self, contact_id: str) -> ContactRecord | None:
        return self._records.get(contact_id)

    def put(self, record: ContactRecord, expected_version: int | None) -> None:
        stored = self._records.get(record.contact_id)
        if (stored.version if stored else None) != expected_version:
            raise StaleContact(record.contact_id)
        self._records[record.contact_id] = record

    def find_by_email(self, email: str) -> list[ContactRecord]:
        return sorted((r for r in self._records.values() if r.email == email), key=lambda r: r.contact_id)

    def find_by_phone(self, phone: str) -> list[ContactRecord]:
        return sorted((r for r in self._records.values() if r.phone == phone), key=lambda r: r.contact_id)

    def find_by_pending_phone(self, phone: str) -> list[ContactRecord]:
        matches = (r for r in self._records.values() if r.pending_phone == phone)
        return sorted(matches, key=lambda r: r.contact_id)

    def delete(self, contact_id: str) -> bool:
        return self._records.pop(contact_id, None) is not None

    def generations(self, contact_ids: Sequence[str]) -> dict[str, str | None]:
        return {cid: self._records[cid].generation for cid in contact_ids if cid in self._records}
