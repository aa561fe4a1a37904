"""Once per key, on the idempotency table: the one way Baton makes a repeated request (an event
retried, an SNS redelivery, a journey task run again) do its work once.

A key has one item: its state, the stored answer and, while work runs, a lease. The lease is
always bounded (at most the invocation's remaining time, never more than Lambda's 15-minute
ceiling), so an invocation that dies mid-way (a Lambda timeout, a crash) blocks the key for
no longer than it could have run. Every write is conditional on the version read, so two
invocations never both think they own a key. Ids are hashes, and an entry about a contact (a
journey's send) names it only in `contact_id`, which the `by_contact` index finds for the
contact's export and erasure (R-GDPR-5).
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, Protocol

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from baton import aws
from baton.clock import Clock, SystemClock, from_iso, to_iso
from baton.data.items import Key, contact_items, delete_keys

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

logger = Logger(child=True)

IN_PROGRESS: Final = "in_progress"
COMPLETED: Final = "completed"
# No Lambda invocation runs longer than this: a lease never outlives the work that took it.
MAX_LEASE: Final = timedelta(minutes=15)
# Writes of a finished answer (each with the SDK's own retries): the work is done, and a key
# left in progress would hold every repeat off until its lease ends.
COMPLETION_ATTEMPTS: Final = 3


class OnceError(Exception):
    """Base of the errors of this module."""


class InProgress(OnceError):
    """Another invocation holds the key right now: try again once its lease is over."""


class OnceUnavailable(OnceError):
    """The idempotency table could not be read or written: nothing was done, try again later."""


class RemainingTime(Protocol):
    """The part of a Lambda context that bounds a lease."""

    def get_remaining_time_in_millis(self) -> int: ...


def once_key(prefix: str, parts: Mapping[str, object]) -> str:
    """`<prefix>#<hash>`: the same parts give the same key, and nothing in it is readable."""
    material = json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return f"{prefix}#{hashlib.sha256(material.encode()).hexdigest()[:40]}"


@dataclass(frozen=True)
class Entry:
    """One key's item. `version` grows by one on every write, so writes compare and set."""

    key: str
    state: str
    data: Mapping[str, Any]
    version: int
    expires_at: datetime
    lease_until: datetime | None = None
    contact_id: str | None = None  # whom the work is about, for export and erasure (R-GDPR-5)

    def leased(self, now: datetime) -> bool:
        return self.lease_until is not None and now < self.lease_until

    def next(
        self, state: str, data: Mapping[str, Any] | None = None, *, lease_until: datetime | None = None
    ) -> Entry:
        """The entry that replaces this one (same key, next version)."""
        return replace(
            self,
            state=state,
            data=dict(self.data if data is None else data),
            version=self.version + 1,
            lease_until=lease_until,
        )


class OnceTable(ABC):
    """Where entries live. Expired entries read as absent and may be overwritten."""

    @abstractmethod
    def read(self, key: str, now: datetime) -> Entry | None: ...

    @abstractmethod
    def write(self, entry: Entry, now: datetime) -> bool:
        """Store `entry` if the stored version is `entry.version - 1` (or, for version 1, if
        there is none or it expired); False when another writer came first."""

    @abstractmethod
    def delete(self, entry: Entry) -> bool:
        """Remove the key if it is still at `entry.version`."""

    @abstractmethod
    def of_contact(self, contact_id: str) -> list[Entry]:
        """Every entry about the contact, expired ones too: they are held until TTL removes them."""

    @abstractmethod
    def delete_all(self, contact_id: str) -> int:
        """Remove every entry about the contact (erasure, R-GDPR-5); returns how many."""


class DynamoOnceTable(OnceTable):
    """The idempotency table (`data.tables.IDEMPOTENCY`): pk `id`, TTL attribute `expiration`,
    GSI `by_contact` on `contact_id` (only entries about a contact carry it)."""

    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        self._table = table_name
        self._client: DynamoDBClient = client or aws.client("dynamodb")

    def read(self, key: str, now: datetime) -> Entry | None:
        try:
            item = self._client.get_item(TableName=self._table, Key={"id": {"S": key}}, ConsistentRead=True)
        except (ClientError, BotoCoreError) as exc:
            raise OnceUnavailable("the idempotency table could not be read") from exc
        found = item.get("Item")
        if not found or "state" not in found:
            return None
        entry = _entry(found)
        return None if entry.expires_at <= now else entry

    def write(self, entry: Entry, now: datetime) -> bool:
        item: dict[str, AttributeValueTypeDef] = {
            "id": {"S": entry.key},
            "state": {"S": entry.state},
            "data": {"S": json.dumps(entry.data, sort_keys=True, separators=(",", ":"))},
            "version": {"N": str(entry.version)},
            "expiration": {"N": str(int(entry.expires_at.timestamp()))},
        }
        if entry.lease_until is not None:
            item["lease_until"] = {"S": to_iso(entry.lease_until)}
        if entry.contact_id is not None:
            item["contact_id"] = {"S": entry.contact_id}
        if entry.version == 1:
            condition = "attribute_not_exists(id) OR expiration <= :now"
            values: dict[str, AttributeValueTypeDef] = {":now": {"N": str(int(now.timestamp()))}}
        else:
            condition = "version = :previous"
            values = {":previous": {"N": str(entry.version - 1)}}
        return self._conditional(
            lambda: self._client.put_item(
                TableName=self._table,
                Item=item,
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
            )
        )

    def delete(self, entry: Entry) -> bool:
        return self._conditional(
            lambda: self._client.delete_item(
                TableName=self._table,
                Key={"id": {"S": entry.key}},
                ConditionExpression="version = :version",
                ExpressionAttributeValues={":version": {"N": str(entry.version)}},
            )
        )

    def of_contact(self, contact_id: str) -> list[Entry]:
        return [_entry(item) for item in contact_items(self._client, self._table, contact_id)]

    def delete_all(self, contact_id: str) -> int:
        keys: list[Key] = [{"id": {"S": entry.key}} for entry in self.of_contact(contact_id)]
        delete_keys(self._client, self._table, keys)
        return len(keys)

    @staticmethod
    def _conditional(call: Callable[[], object]) -> bool:
        try:
            call()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise OnceUnavailable("the idempotency table could not be written") from exc
        except BotoCoreError as exc:
            raise OnceUnavailable("the idempotency table could not be written") from exc
        return True


class InMemoryOnceTable(OnceTable):
    """The same rules without a table: for unit tests and previews."""

    def __init__(self) -> None:
        self.entries: dict[str, Entry] = {}

    def read(self, key: str, now: datetime) -> Entry | None:
        entry = self.entries.get(key)
        return entry if entry is not None and entry.expires_at > now else None

    def write(self, entry: Entry, now: datetime) -> bool:
        current = self.read(entry.key, now)
        if (current.version if current is not None else 0) != entry.version - 1:
            return False
        self.entries[entry.key] = entry
        return True

    def delete(self, entry: Entry) -> bool:
        current = self.entries.get(entry.key)
        if current is None or current.version != entry.version:
            return False
        del self.entries[entry.key]
        return True

    def of_contact(self, contact_id: str) -> list[Entry]:
        return [entry for entry in self.entries.values() if entry.contact_id == contact_id]

    def delete_all(self, contact_id: str) -> int:
        doomed = [entry.key for entry in self.of_contact(contact_id)]
        for key in doomed:
            del self.entries[key]
        return len(doomed)


class Leases:
    """How long work may hold a key: the invocation's remaining time once a handler registers
    its Lambda context, else `MAX_LEASE`; never more than `MAX_LEASE`."""

    def __init__(self) -> None:
        self._context: RemainingTime | None = None

    def register(self, context: RemainingTime | None) -> None:
        self._context = context

    def until(self, now: datetime) -> datetime:
        if self._context is None:
            return now + MAX_LEASE
        remaining = timedelta(milliseconds=max(0, self._context.get_remaining_time_in_millis()))
        return now + min(remaining, MAX_LEASE)


class Once:
    """Runs work once per key to completion and stores its answer for `keep`: a second call
    with a completed key answers from the store without running the work. Work that raises
    leaves nothing stored, so it runs again next time.

    Work that completed but whose answer cannot be stored (the table failing after the work)
    still answers: raising would have the caller retry work that is done. A repeat then finds
    the key in progress until the lease ends, and runs the work again after it; with
    `repeatable` (work whose own writes make a second run harmless) the key is freed at once,
    so a repeat runs it again without waiting."""

    def __init__(
        self,
        table: OnceTable,
        *,
        prefix: str,
        keep: timedelta,
        clock: Clock | None = None,
        leases: Leases | None = None,
        repeatable: bool = False,
    ) -> None:
        self._table = table
        self._prefix = prefix
        self._keep = keep
        self._clock = clock or SystemClock()
        self.leases = leases or Leases()
        self._repeatable = repeatable

    def run(self, parts: Mapping[str, object], work: Callable[[], Mapping[str, Any]]) -> dict[str, Any]:
        """Raises `InProgress` while another invocation runs the same key, `OnceUnavailable`
        when the table fails (before the work runs)."""
        key = once_key(self._prefix, parts)
        now = self._clock.now()
        current = self._table.read(key, now)
        if current is not None and current.state == COMPLETED:
            return dict(current.data)
        if current is not None and current.leased(now):
            raise InProgress(f"{self._prefix}: the same work is running in another invocation")
        claim = (
            current.next(IN_PROGRESS, {}, lease_until=self.leases.until(now))
            if current is not None
            else Entry(key, IN_PROGRESS, {}, 1, now + self._keep, self.leases.until(now))
        )
        if not self._table.write(claim, now):
            raise InProgress(f"{self._prefix}: another invocation took the same work first")
        try:
            result = dict(work())
        except BaseException:
            self._release(claim)
            raise
        self._complete(claim, result)
        return result

    def _complete(self, claim: Entry, result: Mapping[str, Any]) -> None:
        done = claim.next(COMPLETED, result)
        for attempt in range(COMPLETION_ATTEMPTS):
            now = self._clock.now()
            try:
                written = self._table.write(replace(done, expires_at=now + self._keep), now)
            except OnceUnavailable:
                continue
            if not written and attempt == 0:
                # Our lease ran out and another invocation took the key meanwhile: both ran.
                # (On a later attempt, the earlier write may have landed without its answer.)
                logger.warning("Idempotent work outlived its lease", extra={"prefix": self._prefix})
            return
        logger.warning("Idempotent work done but its answer not stored", extra={"prefix": self._prefix})
        if self._repeatable:
            self._release(claim)

    def _release(self, claim: Entry) -> None:
        try:
            self._table.delete(claim)
        except OnceUnavailable:
            # The lease frees the key when it ends: the retry waits at most that long.
            logger.warning("Idempotency lease not released", extra={"prefix": self._prefix})


def _entry(found: Mapping[str, Any]) -> Entry:
    return Entry(
        key=str(found["id"]["S"]),
        state=str(found["state"]["S"]),
        data=json.loads(str(found["data"]["S"])),
        version=int(str(found["version"]["N"])),
        expires_at=_from_epoch(found["expiration"]),
        lease_until=from_iso(str(found["lease_until"]["S"])) if "lease_until" in found else None,
        contact_id=str(found["contact_id"]["S"]) if "contact_id" in found else None,
    )


def _from_epoch(value: Mapping[str, Any]) -> datetime:
    return datetime.fromtimestamp(int(str(value["N"])), tz=UTC)
