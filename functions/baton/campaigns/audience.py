"""The audience of a campaign run: the contacts its segment matches, evaluated once into a
snapshot in S3 that is the run's audience of record.

The contacts table is read with a parallel Scan (`TotalSegments` workers, each its own part of
the table, strongly consistent, page by page): evaluating a segment touches every contact once,
whatever the segment, so the read is split instead of narrowed (segments test any attribute, and
no index could serve them all). The matches are sorted and written in batches, as a JSON array
of `{"batch": n, "contacts": [...]}` items, to `campaigns/<run id>/audience.json`: the object
Step Functions' Distributed Map reads (ItemReader, JSON) to fan the run out, one item per batch
task. The batches are cut here rather than by the Map's ItemBatcher so that each has a number
and a fixed membership for the life of the run: a batch's progress is kept by that number and
its contacts' positions (never their ids), and a retried or redriven batch is the same batch.
(The embedded AWS also runs this form as shipped: its ASL parser has no ItemBatcher.)

Taken once: the object is written only if absent (`If-None-Match: *`), so a retried or redriven
run reads the audience it began with, never a re-evaluation (contacts who joined the segment
since are not added, those who left are still gated at send time like everyone). The object
holds contact ids only (never addresses or names); the bucket expires snapshots after the run's
retention, and an erased contact found in a snapshot is skipped at send time (no contact, no send).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Protocol

from botocore.exceptions import ClientError

from baton.aws import error_code
from baton.data.items import from_item
from baton.journeys.evaluate import segment_matches
from baton.journeys.segments import Segment

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import ScanInputTypeDef

SNAPSHOT_PREFIX: Final = "campaigns"
CONTENT_TYPE: Final = "application/json"
# Contacts per batch task: 100 ids are about 3 KB (a Map item may be 256 KB), and a batch of
# 100 sends fits a Lambda invocation with room to pace.
BATCH_SIZE: Final = 100
# Parallel Scan workers: each reads its own part of the table (DynamoDB's own split).
SCAN_SEGMENTS: Final = 8
SCAN_PAGE_SIZE: Final = 1000
AUDIENCE_METADATA: Final = "audience"  # the object's count of contacts, read back on a retry
BATCHES_METADATA: Final = "batches"


class S3Objects(Protocol):
    """The S3 calls a snapshot makes (boto3 has no type stubs for S3 here)."""

    def put_object(self, **kwargs: Any) -> dict[str, Any]: ...
    def head_object(self, **kwargs: Any) -> dict[str, Any]: ...
    def get_object(self, **kwargs: Any) -> dict[str, Any]: ...


def snapshot_key(run_id: str) -> str:
    """Where the run's audience lives in the campaigns bucket."""
    return f"{SNAPSHOT_PREFIX}/{run_id}/audience.json"


@dataclass(frozen=True, slots=True)
class Snapshot:
    bucket: str
    key: str
    audience: int  # contacts in the snapshot
    batches: int  # items of the snapshot, one per batch task
    scanned: int  # contacts this call read (0: the snapshot was taken before)
    created: bool  # this call wrote it


@dataclass(frozen=True, slots=True)
class _Part:
    matched: list[str]
    scanned: int


class AudienceSnapshots:
    def __init__(
        self,
        *,
        bucket: str,
        contacts_table: str,
        dynamodb: DynamoDBClient,
        s3: S3Objects,
        segments: int = SCAN_SEGMENTS,
        page_size: int = SCAN_PAGE_SIZE,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        if segments < 1:
            raise ValueError("a parallel scan needs at least one segment")
        if batch_size < 1:
            raise ValueError("a batch holds at least one contact")
        self._batch_size = batch_size
        self._bucket = bucket
        self._table = contacts_table
        self._dynamodb = dynamodb
        self._s3 = s3
        self._segments = segments
        self._page_size = page_size

    def take(self, run_id: str, segment: Segment | None) -> Snapshot:
        """The run's audience: the snapshot already taken, or the contacts `segment` matches now
        (every contact when there is no segment), written once."""
        key = snapshot_key(run_id)
        earlier = self._existing(key)
        if earlier is not None:
            return earlier
        matches: Callable[[Mapping[str, Any]], bool] = (
            (lambda contact: True) if segment is None else (lambda contact: segment_matches(segment, contact))
        )
        with ThreadPoolExecutor(max_workers=self._segments, thread_name_prefix="audience-scan") as pool:
            parts = list(pool.map(lambda number: self._scan(number, matches), range(self._segments)))
        contact_ids = sorted(contact_id for part in parts for contact_id in part.matched)
        batches = [
            {"batch": number, "contacts": contact_ids[start : start + self._batch_size]}
            for number, start in enumerate(range(0, len(contact_ids), self._batch_size))
        ]
        body = json.dumps(batches, separators=(",", ":"))
        try:
            self._s3.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=body.encode(),
                ContentType=CONTENT_TYPE,
                Metadata={AUDIENCE_METADATA: str(len(contact_ids)), BATCHES_METADATA: str(len(batches))},
                IfNoneMatch="*",
            )
        except ClientError as exc:
            if error_code(exc) not in (
                "PreconditionFailed",
                "ConditionalRequestConflict",
            ):
                raise
            # Another invocation of the same run wrote it first: its audience is the run's.
            written = self._existing(key)
            if written is None:
                raise
            return written
        return Snapshot(
            self._bucket,
            key,
            len(contact_ids),
            len(batches),
            sum(part.scanned for part in parts),
            created=True,
        )

    def contact_ids(self, key: str) -> Iterator[str]:
        """The snapshot's contacts in order, batch after batch."""
        body = self._s3.get_object(Bucket=self._bucket, Key=key)["Body"].read()
        for batch in json.loads(body):
            yield from (str(contact_id) for contact_id in batch["contacts"])

    def _existing(self, key: str) -> Snapshot | None:
        try:
            head = self._s3.head_object(Bucket=self._bucket, Key=key)
        except ClientError as exc:
            if error_code(exc) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        metadata = head.get("Metadata", {})
        audience = int(metadata.get(AUDIENCE_METADATA, "0"))
        batches = int(metadata.get(BATCHES_METADATA, "0"))
        return Snapshot(self._bucket, key, audience, batches, scanned=0, created=False)

    def _scan(self, number: int, matches: Callable[[Mapping[str, Any]], bool]) -> _Part:
        request: ScanInputTypeDef = {
            "TableName": self._table,
            "Segment": number,
            "TotalSegments": self._segments,
            "ConsistentRead": True,
            "Limit": self._page_size,
        }
        matched: list[str] = []
        scanned = 0
        while True:
            response = self._dynamodb.scan(**request)
            for item in response.get("Items", []):
                contact = from_item(item)
                scanned += 1
                contact_id = contact.get("contact_id")
                if isinstance(contact_id, str) and contact_id and matches(contact):
                    matched.append(contact_id)
            last = response.get("LastEvaluatedKey")
            if not last:
                return _Part(matched, scanned)
            request["ExclusiveStartKey"] = last
