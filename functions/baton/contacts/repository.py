"""Where contacts live: an abstract repository, the DynamoDB one and an in-memory one.

One item per contact keyed `contact_id`; sparse GSIs `by_email` and `by_phone` (an absent
address is left out of the item, never stored as null). Writes are conditional on the
version read, so two concurrent upserts cannot silently overwrite each other.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from baton import aws
from baton.contacts.exceptions import StaleContact
from baton.contacts.models import ContactRecord
from baton.data.items import from_item, get_items, put_items, query_items, to_item, to_value

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import PutItemInputTypeDef, QueryInputTypeDef, ScanInputTypeDef

EMAIL_INDEX = "by_email"
# Checking many emails: one query each costs a round trip per email, reading the email index
# whole costs a read per contact. The index is read whole when the table holds fewer than this
# many contacts per email asked about (DescribeTable's ItemCount, refreshed about every six
# hours, is estimate enough); a query takes ~5 ms, a 1 MB page of the index ~15,000 contacts.
SCAN_CONTACTS_PER_EMAIL = 200
# Queries in flight at once: within the client's 10 pooled connections.
_QUERY_WORKERS = 8
PHONE_INDEX = "by_phone"
PENDING_PHONE_INDEX = "by_pending_phone"


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
    def get_many(self, contact_ids: Sequence[str]) -> dict[str, ContactRecord]:
        """The stored contacts among `contact_ids`, read strongly consistent, by id."""

    @abstractmethod
    def put_many(self, records: Sequence[ContactRecord]) -> None:
        """Store every record, unconditionally (a bulk write has no per-item condition)."""

    @abstractmethod
    def email_owners(self, emails: Collection[str]) -> dict[str, set[str]]:
        """For each of `emails` some contact has, the ids the `by_email` index holds under it
        (the index may lag the table: a caller re-reads the contacts it acts on)."""


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

    def get_many(self, contact_ids: Sequence[str]) -> dict[str, ContactRecord]:
        keys = [{"contact_id": to_value(contact_id)} for contact_id in dict.fromkeys(contact_ids)]
        records = (
            ContactRecord.model_validate(from_item(item))
            for item in get_items(self._client, self._table, keys)
        )
        return {record.contact_id: record for record in records}

    def put_many(self, records: Sequence[ContactRecord]) -> None:
        put_items(self._client, self._table, [to_item(record.model_dump(mode="json")) for record in records])

    def email_owners(self, emails: Collection[str]) -> dict[str, set[str]]:
        wanted = set(emails)
        if not wanted:
            return {}
        contacts = self._client.describe_table(TableName=self._table)["Table"].get("ItemCount", 0)
        if contacts <= SCAN_CONTACTS_PER_EMAIL * len(wanted):
            return self._scan_emails(wanted)
        with ThreadPoolExecutor(max_workers=_QUERY_WORKERS) as pool:
            found = zip(
                wanted, pool.map(lambda email: self._ids(EMAIL_INDEX, "email", email), wanted), strict=True
            )
            return {email: set(ids) for email, ids in found if ids}

    def _scan_emails(self, wanted: set[str]) -> dict[str, set[str]]:
        owners: dict[str, set[str]] = {}
        request: ScanInputTypeDef = {
            "TableName": self._table,
            "IndexName": EMAIL_INDEX,
            "ProjectionExpression": "contact_id, email",
        }
        while True:
            page = self._client.scan(**request)
            for item in page.get("Items", []):
                values = from_item(item)
                if values.get("email") in wanted:
                    owners.setdefault(str(values["email"]), set()).add(str(values["contact_id"]))
            if "LastEvaluatedKey" not in page:
                return owners
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _ids(self, index: str, attribute: str, value: str) -> list[str]:
        request: QueryInputTypeDef = {
            "TableName": self._table,
            "IndexName": index,
            "KeyConditionExpression": "#a = :v",
            "ExpressionAttributeNames": {"#a": attribute},
            "ExpressionAttributeValues": {":v": to_value(value)},
            "ProjectionExpression": "contact_id",
        }
        return [str(from_item(item)["contact_id"]) for item in query_items(self._client, request)]

    def _find(self, index: str, attribute: str, value: str) -> list[ContactRecord]:
        # The index gives ids only (whatever its projection); each contact is then read
        # strongly consistent, so a caller never acts on a stale profile.
        records = (self.get(contact_id) for contact_id in sorted(set(self._ids(index, attribute, value))))
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

    def get_many(self, contact_ids: Sequence[str]) -> dict[str, ContactRecord]:
        return {cid: self._records[cid] for cid in contact_ids if cid in self._records}

    def put_many(self, records: Sequence[ContactRecord]) -> None:
        self._records.update((record.contact_id, record) for record in records)

    def email_owners(self, emails: Collection[str]) -> dict[str, set[str]]:
        owners: dict[str, set[str]] = {}
        for record in self._records.values():
            if record.email is not None and record.email in emails:
                owners.setdefault(record.email, set()).add(record.contact_id)
        return owners
