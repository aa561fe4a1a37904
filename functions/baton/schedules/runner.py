"""The run of a schedule trigger: start a journey for every contact of its segment.

EventBridge Scheduler invokes ScheduleFunction with `{journey, scheduled_time}` at each time the
schedule fires. `SegmentRun.run` scans the contacts table (page by page, strongly consistent),
keeps the contacts the segment matches (`baton.journeys.evaluate.segment_matches`) and starts the
journey for each, exactly as an event would (`baton.triggers`): the idempotency key is
`schedule:<journey>:<scheduled time, UTC ISO>`, so the execution name is the same for one contact
and one schedule time however often the run is retried (R-REL-2), and `journey.started` is on the
contact's timeline once.

One contact's failure does not stop the others; the run then raises `ScheduleRunIncomplete`, so
Scheduler retries it (contacts already started are not started again) and, after its retries,
the event lands in the schedule's dead-letter queue.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from aws_lambda_powertools import Logger
from pydantic import BaseModel, JsonValue

from baton import aws
from baton.clock import Clock, as_utc
from baton.data.items import from_item
from baton.journeys.catalog import Catalog
from baton.journeys.evaluate import segment_matches
from baton.timeline.service import TimelineService
from baton.triggers.exceptions import JourneyNotFound, JourneysNotConfigured, TriggerError
from baton.triggers.executions import Executions
from baton.triggers.models import EventIn
from baton.triggers.runs import RunRepository
from baton.triggers.service import JourneyStarter
from baton.triggers.subjects import SubjectRepository

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import ScanInputTypeDef

# The event a scheduled run carries into the execution (`$.event`), like a trigger's event.
SCHEDULE_EVENT: Final = "schedule"
SCAN_PAGE_SIZE: Final = 100

logger = Logger(child=True)


class ScheduleRunIncomplete(TriggerError):
    """Some contacts of the segment could not be started: the run is retried."""

    def __init__(self, journey_id: str, failed: list[str]) -> None:
        super().__init__(
            f"Schedule of journey {journey_id!r}: {len(failed)} contact(s) not started; the run is retried."
        )
        self.journey_id = journey_id
        self.failed = failed


class NotScheduled(TriggerError):
    """The journey exists but has no schedule trigger."""

    def __init__(self, journey_id: str) -> None:
        super().__init__(f"Journey {journey_id!r} is not triggered by a schedule.")
        self.journey_id = journey_id


class ScheduleRunResult(BaseModel):
    journey: str
    segment: str
    scheduled_time: str
    scanned: int
    matched: int
    started: int  # this call started them (a retry counts only the new ones)


def schedule_time_iso(moment: datetime) -> str:
    """The schedule time as the key names it: UTC, to the second, `Z` (Scheduler's own form)."""
    return as_utc(moment).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_schedule_time(text: str) -> datetime:
    """`2026-01-01T09:00:00Z` (what `<aws.scheduler.scheduled-time>` gives) -> an aware datetime."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return as_utc(moment)


def idempotency_key(journey_id: str, scheduled_time: datetime) -> str:
    return f"schedule:{journey_id}:{schedule_time_iso(scheduled_time)}"


class ContactSource(ABC):
    @abstractmethod
    def pages(self) -> Iterator[list[Mapping[str, Any]]]:
        """Every contact (as its stored fields, `attributes` included), one page at a time."""


class DynamoContactSource(ContactSource):
    """A paginated, strongly consistent Scan of the contacts table."""

    def __init__(
        self, table_name: str, client: DynamoDBClient | None = None, page_size: int = SCAN_PAGE_SIZE
    ):
        self._table = table_name
        self._client: DynamoDBClient = client or aws.client("dynamodb")
        self._page_size = page_size

    def pages(self) -> Iterator[list[Mapping[str, Any]]]:
        request: ScanInputTypeDef = {
            "TableName": self._table,
            "ConsistentRead": True,
            "Limit": self._page_size,
        }
        while True:
            response = self._client.scan(**request)
            yield [from_item(item) for item in response.get("Items", [])]
            last = response.get("LastEvaluatedKey")
            if not last:
                return
            request["ExclusiveStartKey"] = last


class InMemoryContactSource(ContactSource):
    def __init__(self, contacts: Iterable[Mapping[str, Any]], page_size: int = 2) -> None:
        self._contacts = list(contacts)
        self._page_size = page_size

    def pages(self) -> Iterator[list[Mapping[str, Any]]]:
        for start in range(0, len(self._contacts), self._page_size):
            yield self._contacts[start : start + self._page_size]


class SegmentRun:
    def __init__(
        self,
        *,
        catalog: Catalog,
        contacts: ContactSource,
        timeline: TimelineService,
        runs: RunRepository,
        subjects: SubjectRepository,
        executions: Executions,
        clock: Clock,
        state_machine_arn_prefix: str,
        naming_key: Callable[[], bytes],
    ) -> None:
        self._catalog = catalog
        self._contacts = contacts
        self._prefix = state_machine_arn_prefix
        self._starter = JourneyStarter(runs, subjects, executions, timeline, clock, naming_key)

    def run(self, journey_id: str, scheduled_time: datetime) -> ScheduleRunResult:
        journey = self._catalog.journeys.get(journey_id)
        if journey is None:
            raise JourneyNotFound(journey_id)
        segment_id = journey.trigger.segment
        if journey.trigger.schedule is None or segment_id is None:
            raise NotScheduled(journey_id)
        if not self._prefix:
            raise JourneysNotConfigured()
        segment = self._catalog.segment(segment_id)
        key = idempotency_key(journey_id, scheduled_time)
        data: dict[str, JsonValue] = {
            "scheduled_time": schedule_time_iso(scheduled_time),
            "segment": segment_id,
        }
        scanned = matched = started = 0
        failed: list[str] = []
        for page in self._contacts.pages():
            for contact in page:
                scanned += 1
                contact_id = str(contact.get("contact_id", ""))
                if not contact_id or not segment_matches(segment, contact):
                    continue
                matched += 1
                event = EventIn(contact_id=contact_id, type=SCHEDULE_EVENT, data=data, idempotency_key=key)
                try:
                    started += self._start(journey_id, event, _generation(contact))
                except TriggerError:
                    raise  # the journey is not deployed or not configured: no contact can start
                except Exception:
                    logger.exception(
                        "Scheduled start failed", extra={"journey": journey_id, "contact_id": contact_id}
                    )
                    failed.append(contact_id)
        result = ScheduleRunResult(
            journey=journey_id,
            segment=segment_id,
            scheduled_time=schedule_time_iso(scheduled_time),
            scanned=scanned,
            matched=matched,
            started=started,
        )
        logger.info("Schedule run", extra=result.model_dump())
        if failed:
            raise ScheduleRunIncomplete(journey_id, failed)
        return result

    def _start(self, journey_id: str, event: EventIn, generation: str | None) -> bool:
        """Start (or find) the contact's execution; True when this call recorded the run."""
        _, added = self._starter.start(f"{self._prefix}{journey_id}", journey_id, event, generation)
        return added


def _generation(contact: Mapping[str, Any]) -> str | None:
    """The scanned contact's generation (`ContactRecord.generation`; None before contacts had one)."""
    value = contact.get("generation")
    return str(value) if value else None
