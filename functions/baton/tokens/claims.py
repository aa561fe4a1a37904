"""What a signed link says: whose it is, what it may do, until when, and which request it answers.

Only ids and nonces: a link is forwarded, logged by proxies and kept in mail archives, so it
names no address, phone or name (R-GDPR-1). What a link acts on is looked up server-side.
"""

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
    # The contact's generation when the link was made: erasure ends it, so a link never works
    # for a later contact that happens to get the same id. None: a contact stored without one.
    generation: str | None = None
    channel: Channel | None = None
    # Preference and unsubscribe links: the keyed hash of the address the message went to
    # (`baton.tokens.binding`), never the address. The page may grant only for that address
    # while it is still the contact's; a link without one (older links) may only revoke.
    address: str | None = None
    # A confirm link's pending request (the consent request id stored with the pending consent).
    request: str | None = None
    issued_at: datetime | None = None  # set by `sign`, returned by `verify`
