"""The back office records a consent it obtained elsewhere (an agent, the CRM), with proof."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from baton.consent.commands import RecordConsent
from baton.consent.exceptions import AddressSuppressed, InvalidAddress, ProofMissing
from baton.consent.models import ConsentChange, ConsentProof
from baton.consent.vocabulary import Basis, Channel, ConsentStatus, Source

if TYPE_CHECKING:
    from baton.bootstrap import Services


def record_consent(
    services: Services, contact_id: str, command: RecordConsent, actor: str | None
) -> ConsentChange:
    """Grant or revoke for a known contact. Raises `ContactNotFound`, `AddressSuppressed`,
    `InvalidAddress`, `TransitionNotAllowed` (e.g. a grant over the person's own opt-out)."""
    contact = services.contacts.get(contact_id)
    address = command.address or (contact.email if command.channel == Channel.EMAIL else contact.phone)
    proof = command.proof
    if actor and proof.actor is None:
        proof = proof.model_copy(update={"actor": actor})
    if command.status == ConsentStatus.GRANTED:
        _require_proof(command, proof, services.clock.now())
    if command.status == ConsentStatus.REVOKED:
        return services.consent.revoke(
            contact_id, command.channel, command.topic, source=command.source, proof=proof, address=address
        )
    if address is None:
        raise InvalidAddress(f"The contact has no address for {command.channel.value}.")
    suppressed = services.suppression.check(command.channel, address)
    if suppressed is not None:
        raise AddressSuppressed(command.channel.value, str(suppressed.reason))
    return services.consent.grant(
        contact_id,
        command.channel,
        command.topic,
        source=command.source,
        basis=command.basis,
        address=address,
        proof=proof,
    )


# Who records consent obtained elsewhere must say who they are and when the person agreed.
_RECORDED_ELSEWHERE = frozenset({Source.AGENT, Source.IMPORT})


def _require_proof(command: RecordConsent, proof: ConsentProof, now: datetime) -> None:
    """Proof or no consent (R-TCPA-1, R-GDPR-2, R-LGPD-1): raises `ProofMissing` naming the field.

    Checked before anything is written, so a refused grant leaves no trace but the answer.
    """
    if command.basis == Basis.TRANSACTIONAL:
        return  # not consent to marketing: the messages a purchase needs
    if proof.consent_text is None and proof.text_version is None:
        raise ProofMissing(
            "proof.consent_text",
            "a grant needs the words the person agreed to: consent_text, or the text_version that"
            " names them (R-TCPA-1, R-GDPR-2)",
        )
    if command.source in _RECORDED_ELSEWHERE:
        if proof.actor is None:
            raise ProofMissing("proof.actor", "an agent's or import's grant names who recorded it (R-GDPR-2)")
        if proof.obtained_at is None:
            raise ProofMissing(
                "proof.obtained_at", "an agent's or import's grant says when the person agreed (R-GDPR-2)"
            )
    if proof.obtained_at is not None and proof.obtained_at > now:
        raise ProofMissing("proof.obtained_at", "the day the person agreed cannot be in the future")
    if command.basis == Basis.SOFT_OPT_IN:
        if command.channel != Channel.EMAIL:
            raise ProofMissing("basis", "a soft opt-in covers email only (R-EPR-1)")
        if command.source not in _RECORDED_ELSEWHERE:
            raise ProofMissing(
                "source", "a soft opt-in comes from a sale, recorded by an agent or an import (R-EPR-1)"
            )
