"""Where campaign runs live: one partition per run in the campaigns table.

Items of a run (pk = run id):
- sk `run`: the run (`CampaignRun`), its status and its counts;
- sk `batch#<n>`: batch n's outcomes so far by position (`BatchProgress`), so a batch retried
  after a pause or an invocation cut short goes on where it stopped;
- sk `minute#<YYYY-MM-DDTHH:MM>`: contacts done in that minute (the rate now).

A batch's counts reach the run once: the batch item is marked done in the same transaction
that adds its counts to the run, on the condition that it was not done before, so a batch run
again (a Retry, a redrive) counts nothing twice. Nothing here names a contact.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from baton.aws import error_code
from baton.campaigns.exceptions import CampaignConflict, CampaignNotFound
from baton.campaigns.models import (
    BatchProgress,
    CampaignRun,
    CampaignStatus,
    ContactOutcome,
    parse_label,
)
from baton.clock import to_iso
from baton.data.items import from_item, to_item, to_value

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

RUN_KEY: Final = "run"
BATCH_PREFIX: Final = "batch#"
MINUTE_PREFIX: Final = "minute#"
# A run's items outlive it this long (its figures stay readable), then TTL removes them.
KEEP: Final = timedelta(days=90)


def minute_of(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")


class CampaignRuns(ABC):
    @abstractmethod
    def create(self, run: CampaignRun) -> bool:
        """Store a new run; False (nothing written) when a run of that id exists."""

    @abstractmethod
    def get(self, run_id: str) -> CampaignRun:
        """The run, read strongly consistent; CampaignNotFound when there is none."""

    @abstractmethod
    def status(self, run_id: str) -> CampaignStatus:
        """The run's status only, strongly consistent (read before each contact of a batch)."""

    @abstractmethod
    def move(
        self, run_id: str, to: CampaignStatus, allowed: frozenset[CampaignStatus], now: datetime
    ) -> None:
        """Set the status if it is one of `allowed` now; CampaignConflict naming it otherwise."""

    @abstractmethod
    def audience_taken(self, run_id: str, audience: int, batches: int, now: datetime) -> None:
        """The snapshot is written: its size, and the run is running unless paused or cancelled."""

    @abstractmethod
    def progress(self, run_id: str, batch: int) -> BatchProgress:
        """Batch `batch`'s outcomes so far (empty before its first run)."""

    @abstractmethod
    def save_progress(self, run_id: str, batch: int, progress: BatchProgress, now: datetime) -> None:
        """Keep a batch's outcomes so far (a batch that stops before its end)."""

    @abstractmethod
    def finish_batch(self, run_id: str, batch: int, progress: BatchProgress, now: datetime) -> bool:
        """Mark the batch done and add its counts to the run, once; False if done before."""

    @abstractmethod
    def end(self, run_id: str, status: CampaignStatus, now: datetime, error: str | None = None) -> None:
        """The run's execution ended: completed (unless cancelled meanwhile) or failed."""

    @abstractmethod
    def done_in_minute(self, run_id: str, minute: str) -> int:
        """Contacts of the run whose batch finished in `minute` (`minute_of`)."""


class DynamoCampaignRuns(CampaignRuns):
    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self._table = table_name
        self._client = client

    def create(self, run: CampaignRun) -> bool:
        item = {
            **run.model_dump(mode="json"),
            "pk": run.run_id,
            "sk": RUN_KEY,
            "expires_at": _expiry(run.created_at),
        }
        try:
            self._client.put_item(
                TableName=self._table, Item=to_item(item), ConditionExpression="attribute_not_exists(pk)"
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def get(self, run_id: str) -> CampaignRun:
        item = self._get(run_id, RUN_KEY)
        if item is None:
            raise CampaignNotFound(run_id)
        return CampaignRun.model_validate(_fields(item))

    def status(self, run_id: str) -> CampaignStatus:
        item = self._get(run_id, RUN_KEY, status_only=True)
        if item is None:
            raise CampaignNotFound(run_id)
        return CampaignStatus(item["status"])

    def move(
        self, run_id: str, to: CampaignStatus, allowed: frozenset[CampaignStatus], now: datetime
    ) -> None:
        names = {"#s": "status"}
        values: dict[str, Any] = {":to": to_value(str(to))}
        allowed_names = []
        for index, status in enumerate(sorted(allowed)):
            values[f":a{index}"] = to_value(str(status))
            allowed_names.append(f":a{index}")
        update = "SET #s = :to"
        if to is CampaignStatus.CANCELLED:
            update += ", ended_at = :now"
            values[":now"] = to_value(to_iso(now))
        try:
            self._client.update_item(
                TableName=self._table,
                Key=_key(run_id, RUN_KEY),
                UpdateExpression=update,
                ConditionExpression=f"attribute_exists(pk) AND #s IN ({', '.join(allowed_names)})",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            current = self.get(run_id)  # CampaignNotFound when there is no such run
            raise CampaignConflict(run_id, current.status, to) from None

    def audience_taken(self, run_id: str, audience: int, batches: int, now: datetime) -> None:
        self._client.update_item(
            TableName=self._table,
            Key=_key(run_id, RUN_KEY),
            UpdateExpression="SET audience = :a, batches = :b, started_at = if_not_exists(started_at, :now)",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={
                ":a": to_value(audience),
                ":b": to_value(batches),
                ":now": to_value(to_iso(now)),
            },
        )
        # Scheduled -> running; a run paused or cancelled before its audience was taken stays so.
        try:
            self._client.update_item(
                TableName=self._table,
                Key=_key(run_id, RUN_KEY),
                UpdateExpression="SET #s = :running",
                ConditionExpression="#s = :scheduled",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":running": to_value(str(CampaignStatus.RUNNING)),
                    ":scheduled": to_value(str(CampaignStatus.SCHEDULED)),
                },
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise

    def progress(self, run_id: str, batch: int) -> BatchProgress:
        item = self._get(run_id, _batch_key(batch))
        if item is None:
            return BatchProgress()
        return BatchProgress(
            outcomes={int(position): label for position, label in (item.get("outcomes") or {}).items()},
            throttled=int(item.get("throttled", 0)),
            done=bool(item.get("done", False)),
        )

    def save_progress(self, run_id: str, batch: int, progress: BatchProgress, now: datetime) -> None:
        # Never over a batch marked done: its counts are in the run already.
        try:
            self._client.put_item(
                TableName=self._table,
                Item=self._batch_item(run_id, batch, progress, now, done=False),
                ConditionExpression="attribute_not_exists(done) OR done = :no",
                ExpressionAttributeValues={":no": to_value(False)},
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise

    def finish_batch(self, run_id: str, batch: int, progress: BatchProgress, now: datetime) -> bool:
        counts = _counts(progress)
        names: dict[str, str] = {}
        values: dict[str, Any] = {":zero": to_value(0)}
        adds, sets = [], []
        for index, ((field, reason), number) in enumerate(sorted(counts.items(), key=lambda kv: str(kv[0]))):
            values[f":n{index}"] = to_value(number)
            names[f"#f{index}"] = field
            if reason is None:
                adds.append(f"#f{index} :n{index}")
            else:
                # ADD takes top-level attributes only: a reason's count inside its map is SET.
                names[f"#r{index}"] = reason
                path = f"#f{index}.#r{index}"
                sets.append(f"{path} = if_not_exists({path}, :zero) + :n{index}")
        values[":one"] = to_value(1)
        values[":done"] = to_value(len(progress.outcomes))
        adds.append("batches_done :one")
        adds.append("contacts_done :done")
        minute = minute_of(now)
        writes: list[TransactWriteItemTypeDef] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": self._batch_item(run_id, batch, progress, now, done=True),
                    "ConditionExpression": "attribute_not_exists(done) OR done = :no",
                    "ExpressionAttributeValues": {":no": to_value(False)},
                }
            },
            {
                "Update": {
                    "TableName": self._table,
                    "Key": _key(run_id, RUN_KEY),
                    "UpdateExpression": ("SET " + ", ".join(sets) + " " if sets else "")
                    + "ADD "
                    + ", ".join(adds),
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": values,
                }
            },
            {
                "Update": {
                    "TableName": self._table,
                    "Key": _key(run_id, MINUTE_PREFIX + minute),
                    "UpdateExpression": "ADD contacts :done SET expires_at = if_not_exists(expires_at, :exp)",
                    "ExpressionAttributeValues": {
                        ":done": to_value(len(progress.outcomes)),
                        ":exp": to_value(_expiry(now)),
                    },
                }
            },
        ]
        try:
            self._client.transact_write_items(TransactItems=writes)
        except ClientError as exc:
            reasons = exc.response.get("CancellationReasons", [])
            if (
                error_code(exc) == "TransactionCanceledException"
                and reasons[:1]
                and (reasons[0].get("Code") == "ConditionalCheckFailed")
            ):
                return False
            raise
        return True

    def end(self, run_id: str, status: CampaignStatus, now: datetime, error: str | None = None) -> None:
        values: dict[str, Any] = {
            ":to": to_value(str(status)),
            ":now": to_value(to_iso(now)),
            ":cancelled": to_value(str(CampaignStatus.CANCELLED)),
        }
        update = "SET #s = :to, ended_at = :now"
        if error is not None:
            update += ", #e = :error"
            values[":error"] = to_value(error)
        try:
            self._client.update_item(
                TableName=self._table,
                Key=_key(run_id, RUN_KEY),
                UpdateExpression=update,
                # A cancelled run stays cancelled, whatever its execution did after.
                ConditionExpression="attribute_exists(pk) AND #s <> :cancelled",
                ExpressionAttributeNames={"#s": "status", **({"#e": "error"} if error is not None else {})},
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise

    def done_in_minute(self, run_id: str, minute: str) -> int:
        item = self._get(run_id, MINUTE_PREFIX + minute)
        return int(item.get("contacts", 0)) if item is not None else 0

    def _get(self, run_id: str, sk: str, *, status_only: bool = False) -> dict[str, Any] | None:
        request: dict[str, Any] = {"TableName": self._table, "Key": _key(run_id, sk), "ConsistentRead": True}
        if status_only:
            request["ProjectionExpression"] = "#s"
            request["ExpressionAttributeNames"] = {"#s": "status"}
        item = self._client.get_item(**request).get("Item")
        return from_item(item) if item else None

    def _batch_item(
        self, run_id: str, batch: int, progress: BatchProgress, now: datetime, *, done: bool
    ) -> dict[str, Any]:
        return to_item(
            {
                "pk": run_id,
                "sk": _batch_key(batch),
                "outcomes": {str(position): label for position, label in progress.outcomes.items()},
                "throttled": progress.throttled,
                "done": done,
                "expires_at": _expiry(now),
            }
        )


def _counts(progress: BatchProgress) -> Counter[tuple[str, str | None]]:
    """The run's counters a batch adds to: `sent`, `handed_on`, `cancelled`, and per reason
    `skipped.<reason>` / `failed.<reason>`."""
    counts: Counter[tuple[str, str | None]] = Counter()
    for label in progress.outcomes.values():
        outcome, reason = parse_label(label)
        if outcome in (ContactOutcome.SKIPPED, ContactOutcome.FAILED):
            counts[(str(outcome), reason or "unknown")] += 1
        else:
            counts[(str(outcome), None)] += 1
    return counts


def _fields(item: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in item.items() if key not in ("pk", "sk", "expires_at")}


def _key(run_id: str, sk: str) -> dict[str, Any]:
    return {"pk": to_value(run_id), "sk": to_value(sk)}


def _batch_key(batch: int) -> str:
    return f"{BATCH_PREFIX}{batch:06d}"


def _expiry(moment: datetime) -> int:
    return int((moment + KEEP).timestamp())
