"""The frequency caps' count per contact and purpose, kept so that sends running at the same
time cannot pass a cap together: each counted send takes its place in the count before the
provider is called, and a send that did not go out gives its place back.

One item per (contact, purpose) lists the sends of that purpose within the longest cap period,
with a version. A reservation reads the item, runs the gate on the sends it lists, and writes
the item back with the new send only if the version is still the one it read: of two sends
decided on the same count, one write wins and the other decides again on the new count. A send
that went out keeps its place, and so does one whose fate is unknown (the process stopped
mid-send): the cap errs on the side of sending less, never more.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from baton import aws
from baton.clock import from_iso, to_iso
from baton.consent.vocabulary import Channel
from baton.data.items import (
    delete_keys,
    from_item,
    partition_keys,
    put_if,
    query_items,
    to_item,
    to_value,
)
from baton.delivery.exceptions import ProviderThrottled
from baton.delivery.gate import GateDecision, GateFacts, GatePolicy, GateRequest, SentFact, decide
from baton.delivery.message import Purpose

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import QueryInputTypeDef

# A write loses only to another send's write of the same count, and a count takes only as many
# writes as its caps allow sends (plus their releases): a few attempts are always enough, unless
# something is wrong, and then Step Functions retries the task later (R-REL-4).
MAX_ATTEMPTS = 10
# The sends known from the contact's timeline, read when asked (only a count not kept yet asks).
Seed = Callable[[], tuple[SentFact, ...]]
CONTENDED = "CapCountContended"


@dataclass(frozen=True, slots=True)
class CapEntry:
    """One send that holds a place in the count."""

    reservation: str  # the same for every run of one send (see `Dispatcher`), never personal data
    channel: Channel
    at: datetime


@dataclass(frozen=True, slots=True)
class CapCount:
    contact_id: str
    purpose: Purpose
    entries: tuple[CapEntry, ...] = ()
    version: int = 0  # 0: nothing stored yet

    def holds(self, reservation: str) -> bool:
        return any(entry.reservation == reservation for entry in self.entries)


class CapLedger(ABC):
    @abstractmethod
    def read(self, contact_id: str, purpose: Purpose) -> CapCount:
        """The stored count, read strongly consistent (version 0 when there is none)."""

    @abstractmethod
    def replace(self, read: CapCount, entries: tuple[CapEntry, ...], expires_at: datetime) -> bool:
        """Store `entries` as the next version of `read`; False, storing nothing, when another
        write changed the count since it was read."""

    @abstractmethod
    def of_contact(self, contact_id: str) -> list[CapCount]:
        """Every count of the contact, one per purpose (export, R-GDPR-5)."""

    @abstractmethod
    def delete_all(self, contact_id: str) -> int:
        """Remove the contact's counts (erasure, R-GDPR-5); returns how many."""


class CapCountContended(ProviderThrottled):
    """The count kept changing under this send: decide again later."""

    def __init__(self) -> None:
        super().__init__("frequency_cap", CONTENDED)


class CapReservations:
    """The gate's frequency-cap decision made on the stored count, and held by a reservation."""

    def __init__(self, ledger: CapLedger, policy: GatePolicy) -> None:
        self._ledger = ledger
        self._policy = policy

    def sends(self, contact_id: str, purpose: Purpose, seed: Seed) -> tuple[SentFact, ...]:
        """The sends the cap counts now (read only)."""
        return _facts(self._entries(self._ledger.read(contact_id, purpose), seed), purpose, excluding="")

    def reserve(
        self,
        contact_id: str,
        request: GateRequest,
        facts: GateFacts,
        reservation: str,
        seed: Seed = tuple,
    ) -> GateDecision:
        """The gate's decision on the stored count; when it allows the send, the send holds its
        place in that very count. `seed`: the sends known from the timeline, read and counted
        only when nothing is stored yet (sends from before the count was kept)."""
        for _ in range(MAX_ATTEMPTS):
            count = self._ledger.read(contact_id, request.purpose)
            entries = self._entries(count, seed)
            # A retried send counts the others, not itself: its place is already held.
            sends = _facts(entries, request.purpose, excluding=reservation)
            decision = decide(request, replace(facts, recent_sends=sends), self._policy)
            if not decision.allowed or count.holds(reservation):
                return decision
            kept = (*self._recent(entries, facts.now), CapEntry(reservation, request.channel, facts.now))
            if self._ledger.replace(count, kept, self._expiry(kept, facts.now)):
                return decision
        raise CapCountContended()

    def release(self, contact_id: str, purpose: Purpose, reservation: str, now: datetime) -> None:
        """Give the place back: the send did not go out. Raises CapCountContended."""
        for _ in range(MAX_ATTEMPTS):
            count = self._ledger.read(contact_id, purpose)
            if not count.holds(reservation):
                return
            kept = tuple(entry for entry in count.entries if entry.reservation != reservation)
            if self._ledger.replace(count, kept, self._expiry(kept, now)):
                return
        raise CapCountContended()

    def _entries(self, count: CapCount, seed: Seed) -> tuple[CapEntry, ...]:
        if count.version:
            return count.entries
        return tuple(
            CapEntry(f"timeline#{index}", sent.channel, sent.at)
            for index, sent in enumerate(seed())
            if sent.purpose == count.purpose
        )

    def _recent(self, entries: tuple[CapEntry, ...], now: datetime) -> tuple[CapEntry, ...]:
        since = now - self._policy.longest_cap_period
        return tuple(entry for entry in entries if entry.at > since)

    def _expiry(self, entries: tuple[CapEntry, ...], now: datetime) -> datetime:
        # Kept a whole period past its newest send (or past now): by then it counts nothing.
        return max((entry.at for entry in entries), default=now) + self._policy.longest_cap_period


def _facts(entries: tuple[CapEntry, ...], purpose: Purpose, *, excluding: str) -> tuple[SentFact, ...]:
    return tuple(
        SentFact(channel=entry.channel, purpose=purpose, at=entry.at)
        for entry in entries
        if entry.reservation != excluding
    )


class DynamoCapLedger(CapLedger):
    """Item (contact_id, sk = purpose): `version`, `sends` [{reservation, channel, at}],
    `expires_at` (TTL, epoch seconds)."""

    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        self._table = table_name
        self._client: DynamoDBClient = client or aws.client("dynamodb")

    def read(self, contact_id: str, purpose: Purpose) -> CapCount:
        response = self._client.get_item(
            TableName=self._table,
            Key={"contact_id": to_value(contact_id), "sk": to_value(str(purpose))},
            ConsistentRead=True,
        )
        item = response.get("Item")
        if not item:
            return CapCount(contact_id, purpose)
        return _count(from_item(item))

    def of_contact(self, contact_id: str) -> list[CapCount]:
        request: QueryInputTypeDef = {
            "TableName": self._table,
            "KeyConditionExpression": "contact_id = :c",
            "ExpressionAttributeValues": {":c": to_value(contact_id)},
            "ConsistentRead": True,
        }
        return [_count(from_item(item)) for item in query_items(self._client, request)]

    def replace(self, read: CapCount, entries: tuple[CapEntry, ...], expires_at: datetime) -> bool:
        item = to_item(
            {
                "contact_id": read.contact_id,
                "sk": str(read.purpose),
                "version": read.version + 1,
                "sends": [
                    {"reservation": e.reservation, "channel": str(e.channel), "at": to_iso(e.at)}
                    for e in entries
                ],
                "expires_at": int(expires_at.timestamp()),
            }
        )
        if not read.version:
            return put_if(
                self._client,
                {"TableName": self._table, "Item": item, "ConditionExpression": "attribute_not_exists(sk)"},
            )
        return put_if(
            self._client,
            {
                "TableName": self._table,
                "Item": item,
                "ConditionExpression": "#v = :v",
                "ExpressionAttributeNames": {"#v": "version"},
                "ExpressionAttributeValues": {":v": to_value(read.version)},
            },
        )

    def delete_all(self, contact_id: str) -> int:
        keys = partition_keys(self._client, self._table, "contact_id", contact_id, "sk")
        delete_keys(self._client, self._table, keys)
        return len(keys)


def _count(values: dict[str, Any]) -> CapCount:
    return CapCount(
        str(values["contact_id"]),
        Purpose(str(values["sk"])),
        tuple(_entry(send) for send in values.get("sends", [])),
        int(values["version"]),
    )


def _entry(send: dict[str, Any]) -> CapEntry:
    return CapEntry(str(send["reservation"]), Channel(str(send["channel"])), from_iso(str(send["at"])))
