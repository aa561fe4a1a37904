"""The back office records a consent it obtained elsewhere (an agent, the CRM), with proof."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from baton.consent.commands import RecordConsent
from baton.consent.exceptions import AddressSuppressed, InvalidAddress, ProofMissing
from baton.consent.models import ConsentChange, ConsentProof, ConsentState
from baton.consent.service import Grant
from baton.consent.transitions import transition
from baton.consent.vocabulary import Basis, Channel, ConsentStatus, Source
from baton.delivery.message import OutboundMessage, Purpose
from baton.delivery.service import SendContext
from baton.messages import builtins, texts
from baton.messages.builtins import BuiltIn

if TYPE_CHECKING:
    from baton.bootstrap import Services


def record_consent(
    services: Services, contact_id: str, command: RecordConsent, actor: str | None
) -> ConsentChange:
    """Grant or revoke for a known contact. Raises `ContactNotFound`, `AddressSuppressed`,
    `InvalidAddress`, `TransitionNotAllowed` (e.g. a grant over the person's own opt-out)."""
    contact = services.contacts.get(contact_id)
    address = command.address or (contact.email if command.channel == Channel.EMAIL else contact.phone)
    proof = checked_proof(command, actor, services.clock.now())
    if command.status == ConsentStatus.REVOKED:
        change = services.consent.revoke(
            contact_id, command.channel, command.topic, source=command.source, proof=proof, address=address
        )
        if services.settings.opt_out_scope == "channel":
            # R-TCPA-6: "stop" to one programme stops all marketing on the channel by default.
            services.consent.revoke_all(contact_id, command.channel, command.source, proof)
        return change
    address = check_grant(services, contact_id, command, address)
    grant = CheckedGrant(contact_id, command.model_copy(update={"proof": proof}), address, contact.locale)
    (change,) = record_grants(services, [grant])
    return change


@dataclass(frozen=True)
class CheckedGrant:
    """A back-office grant that passed `checked_proof` (its `command.proof` is the checked one)
    and `check_grant` (which gave its `address`); `locale` is the contact's, for the SMS
    confirmation. `known` False: a contact made by this very request, with no consent on record."""

    contact_id: str
    command: RecordConsent
    address: str
    locale: str | None
    known: bool = True


def record_grants(services: Services, grants: Sequence[CheckedGrant]) -> list[ConsentChange]:
    """Record checked grants, in bulk (`ConsentService.grant_many`), and send each number newly
    opted in to texts its one confirmation (R-CTIA-3); the changes in the order given."""
    # The number's opt-in to texts is confirmed once, not once more per topic added to it.
    opted_in = {
        (grant.contact_id, state.address)
        for grant in grants
        if grant.command.channel == Channel.SMS and grant.known
        for state in services.consent.states(grant.contact_id)
        if state.channel == Channel.SMS and state.is_granted
    }
    changes = services.consent.grant_many(
        [
            Grant(
                contact_id=grant.contact_id,
                channel=grant.command.channel,
                topic=grant.command.topic,
                source=grant.command.source,
                basis=grant.command.basis,
                address=grant.address,
                proof=grant.command.proof,
            )
            for grant in grants
        ]
    )
    for grant, change in zip(grants, changes, strict=True):
        number = (grant.contact_id, grant.address)
        if grant.command.channel == Channel.SMS and change.entry is not None and number not in opted_in:
            opted_in.add(number)
            _confirm_sms_opt_in(services, grant.contact_id, grant.address, grant.locale)
    return changes


def checked_proof(command: RecordConsent, actor: str | None, now: datetime) -> ConsentProof:
    """The proof a command records: the authenticated caller as its `actor` unless the command
    names one. A grant's is checked (`ProofMissing`, naming the field) before anything is read
    or written; needs no AWS, so a bulk import checks every row's before writing any."""
    proof = command.proof
    if actor and proof.actor is None:
        proof = proof.model_copy(update={"actor": actor})
    if command.status == ConsentStatus.GRANTED:
        _require_proof(command, proof, now)
    return proof


def check_grant(services: Services, contact_id: str, command: RecordConsent, address: str | None) -> str:
    """The address a back-office grant covers, if the grant may be recorded from what is stored
    now: raises `InvalidAddress` (none), `AddressSuppressed`, `TransitionNotAllowed` (e.g. over
    the person's own opt-out, R-CTIA-4). Reads only."""
    if address is None:
        raise InvalidAddress(f"The contact has no address for {command.channel.value}.")
    suppressed = services.suppression.check(command.channel, address)
    if suppressed is not None:
        raise AddressSuppressed(command.channel.value, str(suppressed.reason))
    current = services.consent.state(contact_id, command.channel, command.topic)
    transition(current.status if current else None, ConsentStatus.GRANTED, command.source)
    return address


def grant_in_force(state: ConsentState | None, command: RecordConsent, address: str) -> bool:
    """True when the ledger already holds this very grant in force: same address, basis and day
    the person agreed (`proof.obtained_at`). Recording it again would add an entry saying
    nothing new, so an import sent twice records its consents once; a later `obtained_at` (a
    new purchase, R-CASL-1) is a renewal and is recorded."""
    return (
        state is not None
        and state.is_granted
        and state.address == address
        and state.granted_basis == command.basis
        and command.proof.obtained_at is not None
        and state.granted_at == command.proof.obtained_at
    )


def _confirm_sms_opt_in(services: Services, contact_id: str, number: str, locale: str | None) -> None:
    """R-CTIA-3: every SMS opt-in gets one confirmation, also one an agent or import recorded.

    Sent when the number had no SMS consent in force (a repeated request or another topic on
    it sends nothing), through the gate, and on the timeline whether it went out or not.
    """
    text = texts.sms_opt_in_confirmed(
        locale=locale, brand=services.settings.brand_name, frequency=services.sms_frequency(locale)
    ).text
    services.dispatcher.send(
        contact_id,
        OutboundMessage.sms(to=number, purpose=Purpose.TRANSACTIONAL, text=text),
        SendContext(labels=builtins.labels(BuiltIn.SMS_OPT_IN_CONFIRMED)),
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
