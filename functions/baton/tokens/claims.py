"""What a signed link says: whose it is, what it may do, until when, and optional detail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from baton.consent.vocabulary import Channel


class Scope(StrEnum):
    """The one action a link is good for; a token for one scope never works for another."""

    CONFIRM = "confirm"
    PREFERENCES = "preferences"
    UNSUBSCRIBE = "unsubscribe"


@dataclass(frozen=True, slots=True)
class TokenClaims:
    contact_id: str
    scope: Scope
    expires_at: datetime  # timezone-aware; kept to the second
    channel: Channel | None = None
    topics: tuple[str, ...] = ()
    # The address the link was sent to: lets an unsubscribe outlive the contact (erasure, R-GDPR-5).
    address: str | None = None
    issued_at: datetime | None = None  # set by `sign`, returned by `verify`
