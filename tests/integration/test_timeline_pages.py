"""The timeline in DynamoDB reads newest first, a page at a time, with opaque cursors."""

from __future__ import annotations

from datetime import timedelta

import pytest

from baton.clock import FixedClock
from baton.timeline.exceptions import InvalidCursor
from baton.timeline.models import TimelineEvent
from baton.timeline.service import TimelineService


def _all_pages(timeline: TimelineService, contact_id: str, limit: int) -> list[list[TimelineEvent]]:
    pages = []
    cursor = None
    while True:
        page = timeline.page(contact_id, limit=limit, cursor=cursor)
        pages.append(page.items)
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor


def test_given_seven_events_when_read_three_at_a_time_then_pages_run_newest_first(
    timeline: TimelineService, clock: FixedClock
) -> None:
    start = clock.now()
    for n in range(1, 8):
        timeline.record("c1", "journey.step", {"n": n}, at=start + timedelta(minutes=n))

    pages = _all_pages(timeline, "c1", limit=3)

    assert [[event.detail["n"] for event in page] for page in pages] == [[7, 6, 5], [4, 3, 2], [1]]


def test_given_exactly_one_page_of_events_then_no_cursor_is_handed_out(timeline: TimelineService) -> None:
    for n in range(3):
        timeline.record("c1", "journey.step", {"n": n})

    page = timeline.page("c1", limit=3)

    assert len(page.items) == 3
    assert page.next_cursor is None


def test_given_events_at_the_same_instant_then_they_read_newest_recorded_first_across_pages(
    timeline: TimelineService,
) -> None:
    for n in range(10):
        timeline.record("c1", "message.sent", {"n": n})  # the clock does not move

    pages = _all_pages(timeline, "c1", limit=4)

    assert [event.detail["n"] for page in pages for event in page] == list(range(9, -1, -1))


def test_given_events_recorded_out_of_order_then_they_are_read_by_when_they_happened(
    timeline: TimelineService, clock: FixedClock
) -> None:
    now = clock.now()
    timeline.record("c1", "message.sent", {"n": "sent"}, at=now)
    timeline.record("c1", "delivery.event", {"n": "delivered"}, at=now + timedelta(seconds=5))
    timeline.record(
        "c1", "delivery.event", {"n": "late receipt of an older send"}, at=now - timedelta(hours=1)
    )

    assert [e.detail["n"] for e in timeline.page("c1").items] == [
        "delivered",
        "sent",
        "late receipt of an older send",
    ]


def test_event_detail_round_trips_with_numbers_and_nesting(timeline: TimelineService) -> None:
    detail = {"price": 19.99, "count": 3, "ok": True, "none": None, "tags": ["a", {"b": 0.5}]}

    timeline.record("c1", "message.sent", detail)

    assert timeline.page("c1").items[0].detail == detail


def test_given_a_cursor_of_another_contact_then_invalid_cursor(timeline: TimelineService) -> None:
    for n in range(3):
        timeline.record("c1", "journey.step", {"n": n})
    cursor = timeline.page("c1", limit=1).next_cursor
    assert cursor is not None

    with pytest.raises(InvalidCursor):
        timeline.page("c2", limit=1, cursor=cursor)
    with pytest.raises(InvalidCursor):
        timeline.page("c1", limit=1, cursor="garbage")


def test_a_page_size_below_one_is_read_as_one(timeline: TimelineService) -> None:
    timeline.record("c1", "journey.step")
    timeline.record("c1", "journey.step")

    assert len(timeline.page("c1", limit=0).items) == 1


def test_an_unknown_contact_has_an_empty_timeline(timeline: TimelineService) -> None:
    page = timeline.page("nobody")

    assert page.items == []
    assert page.next_cursor is None


def test_delete_all_removes_only_that_contacts_events(timeline: TimelineService) -> None:
    for n in range(30):  # more than one BatchWriteItem
        timeline.record("c1", "journey.step", {"n": n})
    timeline.record("c2", "journey.step")

    removed = timeline.delete_all("c1")

    assert removed == 30
    assert timeline.all("c1") == []
    assert len(timeline.all("c2")) == 1
