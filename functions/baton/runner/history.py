"""Messages sent to the contact lately, from its timeline: what the frequency cap counts for a
contact whose cap count is not kept yet (sends from before it was; see `baton.delivery.caps`)."""

from __future__ import annotations

from datetime import datetime

from baton.consent.vocabulary import Channel
from baton.delivery.gate import SentFact
from baton.delivery.message import Purpose
from baton.delivery.service import MESSAGE_SENT
from baton.runner.ports import Timeline
from baton.timeline.service import MAX_PAGE_SIZE


def recent_sends(timeline: Timeline, contact_id: str, since: datetime) -> tuple[SentFact, ...]:
    """Every `message.sent` of the contact after `since`, newest first (pages until older)."""
    sent: list[SentFact] = []
    cursor: str | None = None
    while True:
        page = timeline.page(contact_id, MAX_PAGE_SIZE, cursor)
        for event in page.items:
            if event.at <= since:
                return tuple(sent)
            if event.kind != MESSAGE_SENT:
                continue
            try:
                channel = Channel(str(event.detail.get("channel")))
                purpose = Purpose(str(event.detail.get("purpose")))
            except ValueError:
                continue  # recorded by something else: it names no channel or purpose we count
            sent.append(SentFact(channel=channel, purpose=purpose, at=event.at))
        if page.next_cursor is None:
            return tuple(sent)
        cursor = page.next_cursor
