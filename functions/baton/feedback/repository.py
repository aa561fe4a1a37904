"""The receipts table: waiters keyed by provider message id, and markers of receipts handled.

`claim` is the conditional delete that answers a waiter once (of two deliveries of a receipt,
only the one whose delete removed the item resumes the journey); `mark` is a conditional put,
so only the first delivery of a receipt is handled. Both kinds of item carry `expires_at`
(TTL): a waiter whose journey timed out and a marker are useless after a while.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from baton import aws
from baton.data.items import contact_items, delete_keys, from_item, to_item, to_value
from baton.feedback.models import Receipt, ReceiptWaiter

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SEEN_PREFIX: Final = "seen#"
EARLY_PREFIX: Final = "early#"
_CONDITION_FAILED: Final = "ConditionalCheckFailedException"


class ReceiptRepository(ABC):
    @abstractmethod
    def put(self, waiter: ReceiptWaiter, expires_at: datetime) -> None:
        """Store the waiter (a retried task's new token replaces the old one)."""

    @abstractmethod
    def get(self, provider_message_id: str) -> ReceiptWaiter | None:
        """The waiter of this message, read strongly consistent."""

    @abstractmethod
    def claim(self, waiter: ReceiptWaiter) -> bool:
        """Delete the waiter if still stored with the same token; True if this call deleted it."""

    @abstractmethod
    def remove(self, provider_message_id: str) -> bool:
        """Delete the message's waiter whatever its token (the timeout path)."""

    @abstractmethod
    def seen(self, key: str) -> bool:
        """Whether a receipt with this key was handled already."""

    @abstractmethod
    def mark(self, key: str, expires_at: datetime) -> None:
        """Remember that the receipt with this key was handled."""

    @abstractmethod
    def keep_early(self, receipt: Receipt, expires_at: datetime) -> None:
        """Keep a final receipt (without addresses) for a waiter that may register after it."""

    @abstractmethod
    def early(self, provider_message_id: str) -> Receipt | None:
        """The receipt kept for this message, if it came before its waiter."""

    @abstractmethod
    def of_contact(self, contact_id: str) -> list[ReceiptWaiter]:
        """Every waiter of the contact (export, R-GDPR-5)."""

    @abstractmethod
    def delete_all(self, contact_id: str) -> int:
        """Remove the contact's waiters (erasure, R-GDPR-5); returns how many."""


class DynamoReceiptRepository(ReceiptRepository):
    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        self._table = table_name
        self._client: DynamoDBClient = client or aws.client("dynamodb")

    def put(self, waiter: ReceiptWaiter, expires_at: datetime) -> None:
        values = {**waiter.model_dump(mode="json"), "expires_at": int(expires_at.timestamp())}
        self._client.put_item(TableName=self._table, Item=to_item(values))

    def get(self, provider_message_id: str) -> ReceiptWaiter | None:
        response = self._client.get_item(
            TableName=self._table,
            Key={"provider_message_id": to_value(provider_message_id)},
            ConsistentRead=True,
        )
        item = response.get("Item")
        if item is None or "token" not in item:
            return None
        values = from_item(item)
        values.pop("expires_at", None)
        return ReceiptWaiter.model_validate(values)

    def claim(self, waiter: ReceiptWaiter) -> bool:
        return self._delete(
            waiter.provider_message_id, "#t = :t", {"#t": "token"}, {":t": to_value(waiter.token)}
        )

    def remove(self, provider_message_id: str) -> bool:
        return self._delete(provider_message_id, "attribute_exists(#t)", {"#t": "token"}, {})

    def seen(self, key: str) -> bool:
        response = self._client.get_item(
            TableName=self._table,
            Key={"provider_message_id": to_value(SEEN_PREFIX + key)},
            ConsistentRead=True,
        )
        return "Item" in response

    def mark(self, key: str, expires_at: datetime) -> None:
        self._client.put_item(
            TableName=self._table,
            Item=to_item(
                {"provider_message_id": SEEN_PREFIX + key, "expires_at": int(expires_at.timestamp())}
            ),
        )

    def keep_early(self, receipt: Receipt, expires_at: datetime) -> None:
        item = {
            "provider_message_id": EARLY_PREFIX + receipt.provider_message_id,
            "receipt": receipt.without_addresses().model_dump_json(),
            "expires_at": int(expires_at.timestamp()),
        }
        self._client.put_item(TableName=self._table, Item=to_item(item))

    def early(self, provider_message_id: str) -> Receipt | None:
        response = self._client.get_item(
            TableName=self._table,
            Key={"provider_message_id": to_value(EARLY_PREFIX + provider_message_id)},
            ConsistentRead=True,
        )
        item = response.get("Item")
        if item is None:
            return None
        return Receipt.model_validate_json(str(from_item(item)["receipt"]))

    def of_contact(self, contact_id: str) -> list[ReceiptWaiter]:
        waiters = []
        for item in contact_items(self._client, self._table, contact_id):
            values = from_item(item)
            values.pop("expires_at", None)
            waiters.append(ReceiptWaiter.model_validate(values))
        return waiters

    def delete_all(self, contact_id: str) -> int:
        keys = [
            {"provider_message_id": item["provider_message_id"]}
            for item in contact_items(self._client, self._table, contact_id)
        ]
        delete_keys(self._client, self._table, keys)
        return len(keys)

    def _delete(
        self, provider_message_id: str, condition: str, names: dict[str, str], values: dict[str, Any]
    ) -> bool:
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": {"provider_message_id": to_value(provider_message_id)},
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
        }
        if values:
            request["ExpressionAttributeValues"] = values
        try:
            self._client.delete_item(**request)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == _CONDITION_FAILED:
                return False
            raise
        return True


class InMemoryReceiptRepository(ReceiptRepository):
    """For unit tests and previews."""

    def __init__(self) -> None:
        self.waiters: dict[str, ReceiptWaiter] = {}
        self.markers: set[str] = set()
        self.early_receipts: dict[str, Receipt] = {}

    def put(self, waiter: ReceiptWaiter, expires_at: datetime) -> None:
        self.waiters[waiter.provider_message_id] = waiter

    def get(self, provider_message_id: str) -> ReceiptWaiter | None:
        return self.waiters.get(provider_message_id)

    def claim(self, waiter: ReceiptWaiter) -> bool:
        stored = self.waiters.get(waiter.provider_message_id)
        if stored is None or stored.token != waiter.token:
            return False
        del self.waiters[waiter.provider_message_id]
        return True

    def remove(self, provider_message_id: str) -> bool:
        return self.waiters.pop(provider_message_id, None) is not None

    def seen(self, key: str) -> bool:
        return key in self.markers

    def mark(self, key: str, expires_at: datetime) -> None:
        self.markers.add(key)

    def keep_early(self, receipt: Receipt, expires_at: datetime) -> None:
        self.early_receipts[receipt.provider_message_id] = receipt.without_addresses()

    def early(self, provider_message_id: str) -> Receipt | None:
        return self.early_receipts.get(provider_message_id)

    def of_contact(self, contact_id: str) -> list[ReceiptWaiter]:
        return [waiter for waiter in self.waiters.values() if waiter.contact_id == contact_id]

    def delete_all(self, contact_id: str) -> int:
        ids = [pid for pid, waiter in self.waiters.items() if waiter.contact_id == contact_id]
        for pid in ids:
            del self.waiters[pid]
        return len(ids)
