"""A consent recorded by the back office (an agent or the CRM), with its proof (R-GDPR-2)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from baton.consent.models import ConsentProof, Topic
from baton.consent.vocabulary import Basis, Channel, ConsentStatus, Source


class RecordConsent(BaseModel):
    """`POST /v1/contacts/{contact_id}/consents` (contract): `{channel, topic, status, basis, source, proof}`.

    `address` defaults to the contact's own email or phone for the channel.
    """

    model_config = ConfigDict(extra="forbid")

    channel: Channel
    topic: Topic
    status: Literal[ConsentStatus.GRANTED, ConsentStatus.REVOKED]
    basis: Basis = Basis.EXPRESS
    source: Source = Source.AGENT
    proof: ConsentProof = Field(default_factory=ConsentProof)
    address: str | None = None
