"""Timeline models: one event of a contact's history, and a page of them."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, JsonValue, StringConstraints

from baton.clock import Timestamp

# Dotted lower-case kinds (`message.sent`); free so each package can name its own events.
KIND_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$"
Kind = Annotated[str, StringConstraints(pattern=KIND_PATTERN, max_length=64)]


class TimelineKind(StrEnum):
    """The kinds Baton itself records; other packages may add their own dotted names."""

    CONTACT_CREATED = "contact.created"
    CONTACT_UPDATED = "contact.updated"
    CONSENT_CHANGED = "consent.changed"
    MESSAGE_SENT = "message.sent"
    MESSAGE_SKIPPED = "message.skipped"
    MESSAGE_REFUSED = "message.refused"
    MESSAGE_FAILED = "message.failed"
    DELIVERY_EVENT = "delivery.event"
    INBOUND_REPLY = "inbound.reply"
    JOURNEY_STEP = "journey.step"
    HANDOFF = "handoff"


class TimelineEvent(BaseModel):
    """Something that happened to a contact at `at`; `detail` is the recorder's own JSON."""

    model_config = ConfigDict(frozen=True)

    contact_id: str
    event_id: str
    kind: Kind
    at: Timestamp
    detail: dict[str, JsonValue] = Field(default_factory=dict)


class TimelinePage(BaseModel):
    """Events newest first; `next_cursor` is None on the last page."""

    items: list[TimelineEvent]
    next_cursor: str | None = None
