"""Suppress, check and release addresses per channel, by salted hash only.

Who adds: STOP (reason opt_out), hard bounces and complaints (R-SES-3), erasure (R-GDPR-5),
operator lists. Who removes: a new opt-in by the person (START/UNSTOP, R-CTIA-4, or their own
grant on the preference page reached by a link sent to the address; never a YES, which answers
only a question asked while the number was not suppressed). The send gate calls `check` before
every send.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from baton.clock import Clock
from baton.consent.vocabulary import Channel
from baton.suppression.hashing import address_hash
from baton.suppression.models import SuppressionEntry, SuppressionReason
from baton.suppression.repository import SuppressionRepository


class SuppressionService:
    def __init__(self, repository: SuppressionRepository, salt: Callable[[], bytes], clock: Clock) -> None:
        """`salt` is called on use (e.g. `baton.secrets.suppression_salt`, cached there)."""
        self._repository = repository
        self._salt = salt
        self._clock = clock

    def hash(self, channel: Channel, address: str) -> str:
        """The key an address is suppressed under (raises `InvalidSuppressionAddress`)."""
        return address_hash(self._salt(), channel, address)

    def add(self, channel: Channel, address: str, reason: SuppressionReason, source: str) -> SuppressionEntry:
        """Suppress `address` on `channel`; a repeat replaces the reason and time.

        `source` is a short code (`keyword`, `ses`, `erasure`), never personal data.
        """
        entry = self._entry(channel, address, reason, source)
        self._repository.put(entry)
        return entry

    def add_first(
        self, channel: Channel, address: str, reason: SuppressionReason, source: str, claim: str
    ) -> bool:
        """Suppress `address` unless it already is for this `reason`. True when the suppression
        in force is the one made under `claim` (an id of the act, e.g. the inbound message id):
        of many acts at the same time exactly one, and every retry of that one, so an opt-out is
        confirmed once however often its text is delivered (R-TCPA-5)."""
        return self._repository.put_first(self._entry(channel, address, reason, source, _digest(claim)))

    def _entry(
        self, channel: Channel, address: str, reason: SuppressionReason, source: str, claim: str | None = None
    ) -> SuppressionEntry:
        return SuppressionEntry(
            address_hash=self.hash(channel, address),
            channel=channel,
            reason=reason,
            source=source,
            created_at=self._clock.now(),
            claim=claim,
        )

    def check(self, channel: Channel, address: str) -> SuppressionEntry | None:
        """The suppression in force for this address and channel, or None (strongly consistent)."""
        return self._repository.get(self.hash(channel, address))

    def remove(self, channel: Channel, address: str) -> SuppressionEntry | None:
        """Release the address after a new opt-in by the person; returns the entry removed, if any."""
        return self._repository.delete(self.hash(channel, address))


def _digest(claim: str) -> str:
    # Suppression outlives erasure: it keeps no provider id, only a digest that matches it.
    return hashlib.sha256(claim.encode()).hexdigest()[:32]
