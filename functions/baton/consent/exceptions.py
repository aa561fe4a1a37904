"""Errors of the consent package. `ConsentConflict` and its kinds become a 409 with their `code`."""

from __future__ import annotations

from baton.consent.vocabulary import ConsentStatus, Source


class ConsentError(Exception):
    """Base of every consent error."""


class ConsentConflict(ConsentError):
    """The requested change clashes with the consent on record."""

    code = "consent_conflict"


class TransitionNotAllowed(ConsentConflict):
    """The state machine refuses this change (see `baton.consent.transitions`)."""

    code = "consent_transition_not_allowed"

    def __init__(
        self, current: ConsentStatus | None, target: ConsentStatus, source: Source, why: str
    ) -> None:
        was = current.value if current else "none"
        super().__init__(f"Consent cannot go from {was} to {target.value} by {source.value}: {why}")
        self.current = current
        self.target = target
        self.source = source


class ConcurrentConsentUpdate(ConsentConflict):
    """Another writer kept changing the same consent while this change was retried."""

    code = "consent_concurrent_update"

    def __init__(self) -> None:
        super().__init__("The consent changed while it was being updated; try again.")


class LedgerWriteConflict(ConsentError):
    """A ledger transaction was refused: an entry id already existed or the state moved on.

    Raised by repositories; the service retries on a moved state and never overwrites an entry.
    """

    def __init__(self, entry_exists: bool, state_moved: bool) -> None:
        super().__init__(f"Ledger write refused (entry exists: {entry_exists}, state moved: {state_moved}).")
        self.entry_exists = entry_exists
        self.state_moved = state_moved


class ProofMissing(ConsentError, ValueError):
    """A grant without the proof the rulebook asks for; `field` names what is missing."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class InvalidAddress(ConsentError, ValueError):
    """The address is not a valid email or E.164 number for the channel."""


class AddressSuppressed(ConsentConflict):
    """A back-office grant for an address that opted out, bounced, complained or was erased.

    Only the person's own new opt-in lifts it (R-CTIA-4, R-GDPR-5): an import or an agent cannot.
    """

    code = "address_suppressed"

    def __init__(self, channel: str, reason: str) -> None:
        super().__init__(
            f"The {channel} address is suppressed ({reason}); only a new opt-in by the person can lift it."
        )
