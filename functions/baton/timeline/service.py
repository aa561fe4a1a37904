"""Record what happened to a contact and read it back newest first, a page at a time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from baton.clock import Clock, as_utc
from baton.ids import new_id
from baton.timeline.cursor import decode_cursor, encode_cursor
from baton.timeline.models import TimelineEvent, TimelinePage
from baton.timeline.repository import LOOKUP_ATTRIBUTES, TimelineRepository, sort_key

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
_EXPORT_BATCH = 500


class TimelineObserver(Protocol):
    """Told of each event once it is written (the figures count them); must never raise."""

    def observed(self, event: TimelineEvent) -> None: ...


class TimelineService:
    def __init__(
        self, repository: TimelineRepository, clock: Clock, observers: Sequence[TimelineObserver] = ()
    ) -> None:
        """`observers` hear of every event after its write succeeded, whoever recorded it."""
        self._repository = repository
        self._clock = clock
        self._observers = tuple(observers)

    def observe(self, observer: TimelineObserver) -> None:
        self._observers = (*self._observers, observer)

    def newest(self, contact_id: str, limit: int) -> list[TimelineEvent]:
        """The contact's `limit` newest events (one page, newest first)."""
        return self._repository.newest(contact_id, limit)

    def sent(self, message_id: str) -> list[TimelineEvent]:
        """The `message.sent` events of one message, newest first: by Baton's message id, else by
        the provider's (one index query each, then the items)."""
        for attribute in LOOKUP_ATTRIBUTES:
            found = self._repository.sent_with(attribute, message_id)
            if found:
                return found
        return []

    def older(self, event: TimelineEvent, limit: int) -> list[TimelineEvent]:
        """Up to `limit` events of the same contact recorded before `event`, newest first."""
        return self._repository.newest(event.contact_id, limit, sort_key(event))

    def record(
        self,
        contact_id: str,
        kind: str,
        detail: Mapping[str, object] | None = None,
        at: datetime | None = None,
        event_id: str | None = None,
    ) -> TimelineEvent:
        """Append an event. `at` defaults to now; give it for events that happened earlier
        (a delivery receipt's own time). `kind` is dotted lower case (see `TimelineKind`);
        `detail` must be JSON-like (validated: a pydantic ValidationError otherwise). With
        `event_id` (and `at`) fixed by the caller, recording the same event again raises
        `EventExists` instead of adding a second one."""
        moment = as_utc(at) if at is not None else self._clock.now()
        event = TimelineEvent(
            contact_id=contact_id,
            event_id=event_id or new_id(moment),
            kind=kind,
            at=moment,
            detail=dict(detail or {}),  # validated as JSON values by the model
        )
        self._repository.add(event)
        self._tell(event)
        return event

    def record_many(
        self, contact_events: Sequence[tuple[str, str, Mapping[str, object]]], at: datetime
    ) -> None:
        """Append one event per (contact_id, kind, detail), all at `at`, in bulk (a bulk import
        records each contact's own entry, as `record` would, without a call per contact)."""
        moment = as_utc(at)
        events = [
            TimelineEvent(
                contact_id=contact_id, event_id=new_id(moment), kind=kind, at=moment, detail=dict(detail)
            )
            for contact_id, kind, detail in contact_events
        ]
        self._repository.add_many(events)
        for event in events:
            self._tell(event)

    def _tell(self, event: TimelineEvent) -> None:
        for observer in self._observers:
            observer.observed(event)

    def page(
        self, contact_id: str, limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None
    ) -> TimelinePage:
        """Events newest first. `limit` is clamped to 1..100; `cursor` is a previous page's
        `next_cursor` (raises `InvalidCursor` otherwise); `next_cursor` is None on the last page."""
        size = max(1, min(limit, MAX_PAGE_SIZE))
        before = decode_cursor(cursor, contact_id)["sk"] if cursor is not None else None
        # One extra tells whether another page exists, so the last page never hands out a cursor.
        events = self._repository.newest(contact_id, size + 1, before)
        if len(events) <= size:
            return TimelinePage(items=events, next_cursor=None)
        items = events[:size]
        return TimelinePage(
            items=items, next_cursor=encode_cursor({"contact_id": contact_id, "sk": sort_key(items[-1])})
        )

    def all(self, contact_id: str) -> list[TimelineEvent]:
        """Every event of the contact, newest first (for the R-GDPR-5 export)."""
        events: list[TimelineEvent] = []
        before: str | None = None
        while True:
            batch = self._repository.newest(contact_id, _EXPORT_BATCH, before)
            events.extend(batch)
            if len(batch) < _EXPORT_BATCH:
                return events
            before = sort_key(batch[-1])

    def delete_all(self, contact_id: str) -> int:
        """Remove the contact's whole timeline (erasure, R-GDPR-5); returns how many events."""
        return self._repository.delete_all(contact_id)
