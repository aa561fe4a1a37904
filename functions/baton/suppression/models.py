"""Suppression models. An entry holds no personal data: the salted hash, channel, reason, source, time."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from baton.clock import Timestamp
from baton.consent.vocabulary import Channel

# Where the suppression came from (`keyword`, `ses`, `erasure`, `agent`, `import:nao-me-perturbe`):
# a short code, never free text, so no personal data slips into a table that outlives erasure.
SuppressionSource = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.:-]{0,63}$")]


class SuppressionReason(StrEnum):
    OPT_OUT = "opt_out"  # STOP and friends, one-click unsubscribe (R-TCPA-3, R-MBX-2)
    HARD_BOUNCE = "hard_bounce"  # R-SES-3
    COMPLAINT = "complaint"  # R-SES-3
    ERASED = "erased"  # R-GDPR-5: the person asked to be forgotten
    DO_NOT_CONTACT_LIST = "do_not_contact_list"  # an operator-loaded list (R-BR-1 "Não Me Perturbe")
    MANUAL = "manual"


class SuppressionEntry(BaseModel):
    """One suppressed address: `address_hash` is HMAC-SHA256(salt, "<channel>:<address>") in hex."""

    model_config = ConfigDict(frozen=True)

    address_hash: str
    channel: Channel
    reason: SuppressionReason
    source: SuppressionSource
    created_at: Timestamp
    # Which act made it, as a digest (e.g. of the STOP's inbound message id): a retry of that
    # same act knows the opt-out is its own, and still owes its one confirmation (R-TCPA-5).
    claim: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{1,64}$")] | None = None
