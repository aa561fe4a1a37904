"""The back office records a consent it obtained elsewhere (an agent, the CRM), with proof."""

from __future__ import annotations

from typing import TYPE_CHECKING

from baton.consent.commands import RecordConsent
from baton.consent.exceptions import AddressSuppressed, InvalidAddress
from baton.consent.models import ConsentChange
from baton.consent.vocabulary import Channel, ConsentStatus

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
