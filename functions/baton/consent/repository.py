"""Where the consent ledger lives: an abstract repository, the DynamoDB one and an in-memory one.

Item layout in the consent table (pk `contact_id`, sk `sk`):
- `ENTRY#<iso-ts>#<entry_id>`: a ledger entry, written once and never updated (R-GDPR-2).
- `STATE#<channel>#<topic>`: the current view, replaced on every change.
An entry and its state are written in ONE TransactWriteItems: the entry with
`attribute_not_exists(sk)`, the state only over the version the change was computed from, so
a concurrent change is detected instead of lost.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from baton import aws
from baton.clock import to_iso
from baton.consent.exceptions import LedgerWriteConflict
from baton.consent.models import ConsentEntry, ConsentState
from baton.consent.vocabulary import Channel, ConsentStatus
from baton.data.items import (
    delete_keys,
    from_item,
    get_items,
    partition_keys,
    query_items,
    to_item,
    to_value,
    update_if,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import PutTypeDef, QueryInputTypeDef, TransactWriteItemTypeDef

ENTRY_PREFIX = "ENTRY#"
STATE_PREFIX = "STATE#"
# TransactWriteItems takes 100 actions; each change is two (entry + state).
MAX_WRITES_PER_TRANSACTION = 50


def entry_key(entry: ConsentEntry) -> str:
    return f"{ENTRY_PREFIX}{to_iso(entry.timestamp)}#{entry.entry_id}"


def state_key(channel: Channel, topic: str) -> str:
    return f"{STATE_PREFIX}{channel.value}#{topic}"


@dataclass(frozen=True)
class LedgerWrite:
    """One consent change: the new entry and the state it leads to.

    `expected_version` is the version of the state the change was computed from (None: the
    state must not exist yet); `state.version` is the next one.
    """

    entry: ConsentEntry
    state: ConsentState
    expected_version: int | None


class ConsentRepository(ABC):
    @abstractmethod
    def append(self, writes: Sequence[LedgerWrite]) -> None:
        """Write every entry and state atomically (all or nothing); at most 50 writes.

        Raises `LedgerWriteConflict` when an entry id exists or a state moved on.
        """

    @abstractmethod
    def mark_asked(
        self, contact_id: str, channel: Channel, topic: str, request_id: str, at: datetime
    ) -> bool:
        """Set the state's `asked_at` if it is still pending under `request_id` (and move its
        version on); False, writing nothing, otherwise."""

    @abstractmethod
    def get_state(self, contact_id: str, channel: Channel, topic: str) -> ConsentState | None:
        """The current state, read strongly consistent (R-TCPA-4: a revocation counts at once)."""

    @abstractmethod
    def get_states(
        self, keys: Sequence[tuple[str, Channel, str]]
    ) -> dict[tuple[str, Channel, str], ConsentState]:
        """The current states of these (contact_id, channel, topic), read strongly consistent in
        bulk; a key with no state is left out."""

    @abstractmethod
    def list_states(self, contact_id: str) -> list[ConsentState]:
        """Every current state of a contact (strongly consistent), ordered by channel and topic."""

    @abstractmethod
    def list_entries(self, contact_id: str) -> list[ConsentEntry]:
        """The contact's whole ledger, oldest first."""

    @abstractmethod
    def delete_all(self, contact_id: str) -> int:
        """Remove every entry and state of the contact (erasure, R-GDPR-5); returns how many items."""


class DynamoConsentRepository(ConsentRepository):
    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        self._table = table_name
        self._client: DynamoDBClient = client or aws.client("dynamodb")

    def append(self, writes: Sequence[LedgerWrite]) -> None:
        _check_size(writes)
        actions: list[TransactWriteItemTypeDef] = []
        for write in writes:
            actions.append({"Put": self._entry_put(write.entry)})
            actions.append({"Put": self._state_put(write.state, write.expected_version)})
        try:
            self._client.transact_write_items(TransactItems=actions)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            raise _conflict(exc.response) from exc

    def mark_asked(
        self, contact_id: str, channel: Channel, topic: str, request_id: str, at: datetime
    ) -> bool:
        return update_if(
            self._client,
            {
                "TableName": self._table,
                "Key": {"contact_id": to_value(contact_id), "sk": to_value(state_key(channel, topic))},
                "UpdateExpression": "SET asked_at = :at, version = version + :one",
                "ConditionExpression": "request_id = :request AND #status = :pending",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {
                    ":at": to_value(to_iso(at)),
                    ":one": to_value(1),
                    ":request": to_value(request_id),
                    ":pending": to_value(ConsentStatus.PENDING.value),
                },
            },
        )

    def get_state(self, contact_id: str, channel: Channel, topic: str) -> ConsentState | None:
        response = self._client.get_item(
            TableName=self._table,
            Key={"contact_id": to_value(contact_id), "sk": to_value(state_key(channel, topic))},
            ConsistentRead=True,
        )
        item = response.get("Item")
        return _state(from_item(item)) if item else None

    def get_states(
        self, keys: Sequence[tuple[str, Channel, str]]
    ) -> dict[tuple[str, Channel, str], ConsentState]:
        requested = [
            {"contact_id": to_value(contact_id), "sk": to_value(state_key(channel, topic))}
            for contact_id, channel, topic in dict.fromkeys(keys)
        ]
        states = (_state(from_item(item)) for item in get_items(self._client, self._table, requested))
        return {(state.contact_id, state.channel, state.topic): state for state in states}

    def list_states(self, contact_id: str) -> list[ConsentState]:
        return [_state(item) for item in self._query(contact_id, STATE_PREFIX)]

    def list_entries(self, contact_id: str) -> list[ConsentEntry]:
        return [_entry(item) for item in self._query(contact_id, ENTRY_PREFIX)]

    def delete_all(self, contact_id: str) -> int:
        keys = partition_keys(self._client, self._table, "contact_id", contact_id, sort_key="sk")
        delete_keys(self._client, self._table, keys)
        return len(keys)

    def _entry_put(self, entry: ConsentEntry) -> PutTypeDef:
        item = {**entry.model_dump(mode="json"), "sk": entry_key(entry)}
        return {
            "TableName": self._table,
            "Item": to_item(item),
            "ConditionExpression": "attribute_not_exists(sk)",
        }

    def _state_put(self, state: ConsentState, expected_version: int | None) -> PutTypeDef:
        item = {**state.model_dump(mode="json"), "sk": state_key(state.channel, state.topic)}
        put: PutTypeDef = {"TableName": self._table, "Item": to_item(item)}
        if expected_version is None:
            put["ConditionExpression"] = "attribute_not_exists(sk)"
        else:
            put["ConditionExpression"] = "version = :expected"
            put["ExpressionAttributeValues"] = {":expected": to_value(expected_version)}
        return put

    def _query(self, contact_id: str, prefix: str) -> list[dict[str, Any]]:
        request: QueryInputTypeDef = {
            "TableName": self._table,
            "KeyConditionExpression": "contact_id = :c AND begins_with(sk, :p)",
            "ExpressionAttributeValues": {":c": to_value(contact_id), ":p": to_value(prefix)},
            "ConsistentRead": True,
        }
        return [from_item(item) for item in query_items(self._client, request)]


class InMemoryConsentRepository(ConsentRepository):
    """For unit tests and previews: the same all-or-nothing and version rules, no AWS."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], ConsentEntry] = {}
        self._states: dict[tuple[str, str], ConsentState] = {}

    def append(self, writes: Sequence[LedgerWrite]) -> None:
        _check_size(writes)
        entry_exists = any((w.entry.contact_id, entry_key(w.entry)) in self._entries for w in writes)
        state_moved = any(self._version(w.state) != w.expected_version for w in writes)
        if entry_exists or state_moved:
            raise LedgerWriteConflict(entry_exists=entry_exists, state_moved=state_moved)
        for write in writes:
            self._entries[(write.entry.contact_id, entry_key(write.entry))] = write.entry
            self._states[(write.state.contact_id, state_key(write.state.channel, write.state.topic))] = (
                write.state
            )

    def mark_asked(
        self, contact_id: str, channel: Channel, topic: str, request_id: str, at: datetime
    ) -> bool:
        key = (contact_id, state_key(channel, topic))
        state = self._states.get(key)
        if state is None or state.status != ConsentStatus.PENDING or state.request_id != request_id:
            return False
        self._states[key] = state.model_copy(update={"asked_at": at, "version": state.version + 1})
        return True

    def get_state(self, contact_id: str, channel: Channel, topic: str) -> ConsentState | None:
        return self._states.get((contact_id, state_key(channel, topic)))

    def get_states(
        self, keys: Sequence[tuple[str, Channel, str]]
    ) -> dict[tuple[str, Channel, str], ConsentState]:
        found = {key: self.get_state(*key) for key in keys}
        return {key: state for key, state in found.items() if state is not None}

    def list_states(self, contact_id: str) -> list[ConsentState]:
        return [state for (owner, _), state in sorted(self._states.items()) if owner == contact_id]

    def list_entries(self, contact_id: str) -> list[ConsentEntry]:
        return [entry for (owner, _), entry in sorted(self._entries.items()) if owner == contact_id]

    def delete_all(self, contact_id: str) -> int:
        doomed = [key for key in (*self._entries, *self._states) if key[0] == contact_id]
        for key in doomed:
            self._entries.pop(key, None)
            self._states.pop(key, None)
        return len(doomed)

    def _version(self, state: ConsentState) -> int | None:
        stored = self._states.get((state.contact_id, state_key(state.channel, state.topic)))
        return stored.version if stored else None


def _check_size(writes: Sequence[LedgerWrite]) -> None:
    if len(writes) > MAX_WRITES_PER_TRANSACTION:
        raise ValueError(f"At most {MAX_WRITES_PER_TRANSACTION} consent changes per transaction.")


def _conflict(response: Any) -> LedgerWriteConflict:
    # Reasons come in the order of the actions: even indexes are entries, odd ones states.
    # Decided by reason codes, never by message text. `TransactionConflict` (another
    # transaction on the same item) is a moved state too: retrying recomputes from fresh data.
    reasons = response.get("CancellationReasons") or []
    codes = [reason.get("Code", "None") for reason in reasons]
    entry_exists = any(code == "ConditionalCheckFailed" for code in codes[0::2])
    state_moved = any(code in {"ConditionalCheckFailed", "TransactionConflict"} for code in codes[1::2])
    if not entry_exists and not state_moved:
        state_moved = True  # no usable reasons: treat as a race, the caller re-reads and retries
    return LedgerWriteConflict(entry_exists=entry_exists, state_moved=state_moved)


def _state(item: dict[str, Any]) -> ConsentState:
    item.pop("sk", None)
    return ConsentState.model_validate(item)


def _entry(item: dict[str, Any]) -> ConsentEntry:
    item.pop("sk", None)
    return ConsentEntry.model_validate(item)
