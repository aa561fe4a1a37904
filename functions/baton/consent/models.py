"""Consent models: the proof a caller gives, the append-only ledger entry, the current state.

Entries and states are immutable records: the repository adds only its keys around them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, IPvAnyAddress, PlainSerializer, StringConstraints

from baton.clock import Timestamp
from baton.consent.vocabulary import Basis, Channel, ConsentStatus, Source

# Topics are ids in journeys and keys in the ledger (`STATE#<channel>#<topic>`): no `#`.
TOPIC_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
Topic = Annotated[str, StringConstraints(pattern=TOPIC_PATTERN)]


def _text(max_length: int) -> StringConstraints:
    return StringConstraints(strip_whitespace=True, min_length=1, max_length=max_length)


IpAddress = Annotated[IPvAnyAddress, PlainSerializer(str, return_type=str)]


class ConsentProof(BaseModel):
    """How and what the person agreed to (R-GDPR-2, R-TCPA-1): what they were told, where, by what means.

    Give the exact `consent_text` shown, or the `text_version` that identifies it, with its
    `language`; a form gives `form_id`, `page_url`, `ip`, `user_agent`; a keyword gives the
    inbound `message_id`; an agent or an import gives `actor` (who recorded it), `obtained_at`
    (when the person agreed, or bought: implied consent and soft opt-in expire from that day,
    R-CASL-1) and a `note`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    consent_text: Annotated[str, _text(5000)] | None = None
    text_version: Annotated[str, _text(100)] | None = None
    language: Annotated[str, _text(35)] | None = None
    form_id: Annotated[str, _text(200)] | None = None
    page_url: Annotated[str, _text(2048)] | None = None
    ip: IpAddress | None = None
    user_agent: Annotated[str, _text(1000)] | None = None
    message_id: Annotated[str, _text(200)] | None = None
    note: Annotated[str, _text(2000)] | None = None
    actor: Annotated[str, _text(200)] | None = None
    obtained_at: Timestamp | None = None


class ConsentEntry(BaseModel):
    """One append-only ledger entry: a request, grant or revocation, with its proof (R-GDPR-2).

    Who (`contact_id`), when (`timestamp`, UTC), which purpose and channel (`topic`,
    `channel`), the exact email or E.164 number covered (`address`, R-TCPA-1), what changed
    (`previous_status` -> `status`, on `basis`, by `source`) and how (`proof`).
    `confirms_entry_id` links a grant to the pending request it completes (double opt-in);
    `request_id` is the random id a pending request is confirmed by (the confirm link names it).
    """

    model_config = ConfigDict(frozen=True)

    entry_id: str
    contact_id: str
    channel: Channel
    topic: Topic
    address: str | None = None  # None: a revocation with no address on record (stored without it)
    status: ConsentStatus
    previous_status: ConsentStatus | None = None
    basis: Basis | None = None
    source: Source
    timestamp: Timestamp
    proof: ConsentProof = Field(default_factory=ConsentProof)
    confirms_entry_id: str | None = None
    request_id: str | None = None


class ConsentState(BaseModel):
    """The current consent of a contact for one channel and topic: read by every send gate.

    `basis` and `source` are those of the latest entry (`entry_id`). `granted_at` and
    `granted_basis` describe the grant in force or the last one, kept through later changes:
    R-CASL-1 computes an implied consent's expiry from them.
    """

    model_config = ConfigDict(frozen=True)

    contact_id: str
    channel: Channel
    topic: Topic
    address: str | None = None  # see ConsentEntry.address
    status: ConsentStatus
    basis: Basis | None = None
    source: Source
    entry_id: str
    updated_at: Timestamp
    requested_at: Timestamp | None = None
    granted_at: Timestamp | None = None
    granted_basis: Basis | None = None
    revoked_at: Timestamp | None = None
    # While pending: the request a confirmation must name (a link to an older request fails).
    request_id: str | None = None
    # When the confirmation request of the latest request went out to `address` (None: never,
    # e.g. the gate refused it). Kept after the request is answered, so that a YES answers the
    # newest question the number was asked and never reaches back to an older one (R-CTIA-3).
    asked_at: Timestamp | None = None
    version: int = 1

    @property
    def is_granted(self) -> bool:
        return self.status == ConsentStatus.GRANTED


@dataclass(frozen=True)
class ConsentChange:
    """What a consent command did: the state now, and the entry written (None for a no-op)."""

    state: ConsentState
    entry: ConsentEntry | None

    @property
    def changed(self) -> bool:
        return self.entry is not None
