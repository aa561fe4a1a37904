"""Consent commands and queries: request (pending), grant, revoke, and the current view.

Every command reads the current state strongly consistent, asks the state machine
(`transitions.transition`) whether the change is allowed, and writes the ledger entry and the
new state in one transaction over the version it read; when another writer got there first,
it re-reads and decides again. Each applied change is also put on the contact's timeline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from baton.clock import Clock
from baton.consent.exceptions import ConcurrentConsentUpdate, InvalidAddress, LedgerWriteConflict
from baton.consent.models import ConsentChange, ConsentEntry, ConsentProof, ConsentState
from baton.consent.repository import MAX_WRITES_PER_TRANSACTION, ConsentRepository, LedgerWrite
from baton.consent.transitions import Transition, transition
from baton.consent.vocabulary import Basis, Channel, ConsentStatus, Source
from baton.contacts.exceptions import InvalidContactField
from baton.contacts.normalize import normalize_address
from baton.ids import new_id
from baton.timeline.models import TimelineKind
from baton.timeline.service import TimelineService

_ATTEMPTS = 3
_IMPLIED = frozenset({Basis.IMPLIED_PURCHASE, Basis.IMPLIED_INQUIRY, Basis.SOFT_OPT_IN})


@dataclass(frozen=True)
class _Command:
    """What a caller asked for; `_plan` turns it into a ledger write against the current state."""

    target: ConsentStatus
    source: Source
    basis: Basis | None
    address: str | None
    proof: ConsentProof | None
    request_id: str | None = None


@dataclass(frozen=True)
class Grant:
    """One grant of `grant_many`: the arguments `grant` takes, with the address it covers."""

    contact_id: str
    channel: Channel
    topic: str
    source: Source
    basis: Basis
    address: str
    proof: ConsentProof


class ConsentService:
    def __init__(self, repository: ConsentRepository, timeline: TimelineService, clock: Clock) -> None:
        self._repository = repository
        self._timeline = timeline
        self._clock = clock

    # Commands ---------------------------------------------------------------------------

    def request(
        self,
        contact_id: str,
        channel: Channel,
        topic: str,
        address: str,
        *,
        source: Source = Source.FORM,
        basis: Basis = Basis.EXPRESS,
        proof: ConsentProof | None = None,
        request_id: str | None = None,
    ) -> ConsentChange:
        """Record a pending consent (double opt-in started) for `address` (an email, or a number with +CC).

        A no-op when the consent is already granted. The proof should carry the exact text
        shown (`consent_text` or `text_version`, `language`) and how (form, page, IP, agent).
        `request_id` is what the confirmation link names; a newer request replaces it.
        """
        command = _Command(ConsentStatus.PENDING, source, basis, address, proof, request_id)
        return self._change(contact_id, channel, topic, command)

    def grant(
        self,
        contact_id: str,
        channel: Channel,
        topic: str,
        *,
        source: Source,
        basis: Basis | None = None,
        address: str | None = None,
        proof: ConsentProof | None = None,
    ) -> ConsentChange:
        """Record a grant. Confirming a pending request: leave `address` and `basis` out, they
        come from the request (and the entry links it as `confirms_entry_id`).

        Raises `TransitionNotAllowed` (see `transitions`), `InvalidAddress` when there is no
        address to cover.
        """
        command = _Command(ConsentStatus.GRANTED, source, basis, address, proof)
        return self._change(contact_id, channel, topic, command)

    def revoke(
        self,
        contact_id: str,
        channel: Channel,
        topic: str,
        *,
        source: Source,
        proof: ConsentProof | None = None,
        address: str | None = None,
    ) -> ConsentChange:
        """Record a revocation (always allowed, R-TCPA-3, R-GDPR-3/4); a no-op when already revoked.

        With no consent on record the revocation is still kept, so nothing can grant over it
        except a new opt-in by the person (R-CTIA-4).
        """
        command = _Command(ConsentStatus.REVOKED, source, None, address, proof)
        return self._change(contact_id, channel, topic, command)

    def revoke_all(
        self, contact_id: str, channel: Channel, source: Source, proof: ConsentProof | None = None
    ) -> list[ConsentChange]:
        """Revoke every topic of one channel (R-TCPA-6 default scope: all marketing on it), e.g.
        after STOP. One transaction; returns only the changes made (already revoked: none)."""
        command = _Command(ConsentStatus.REVOKED, source, None, None, proof)
        for _ in range(_ATTEMPTS):
            now = self._clock.now()
            planned = [
                write
                for state in self._repository.list_states(contact_id)
                if state.channel == channel
                and (write := _plan(state, contact_id, channel, state.topic, command, now)) is not None
            ]
            try:
                for start in range(0, len(planned), MAX_WRITES_PER_TRANSACTION):
                    self._repository.append(planned[start : start + MAX_WRITES_PER_TRANSACTION])
            except LedgerWriteConflict as exc:
                if not exc.state_moved:
                    raise
                continue
            for write in planned:
                self._on_timeline(write)
            return [ConsentChange(state=write.state, entry=write.entry) for write in planned]
        raise ConcurrentConsentUpdate()

    def grant_many(self, grants: Sequence[Grant]) -> list[ConsentChange]:
        """Record many grants, each exactly as `grant` records it (the same decision, ledger entry,
        state and timeline entry), with fewer calls: the states read in bulk, the entries and
        states written MAX_WRITES_PER_TRANSACTION changes to a transaction (each change's entry
        and state together, as always), the timeline entries in bulk. A transaction whose states
        moved meanwhile is decided again from a fresh read. Each (contact, channel, topic) at
        most once. Raises as `grant` does, before anything of the failing transaction is written;
        returns the changes in the order given."""
        changes: list[ConsentChange] = []
        for start in range(0, len(grants), MAX_WRITES_PER_TRANSACTION):
            changes += self._grant_together(grants[start : start + MAX_WRITES_PER_TRANSACTION])
        return changes

    def _grant_together(self, grants: Sequence[Grant]) -> list[ConsentChange]:
        keys = [(grant.contact_id, grant.channel, grant.topic) for grant in grants]
        for _ in range(_ATTEMPTS):
            now = self._clock.now()
            states = self._repository.get_states(keys)
            planned = [
                _plan(
                    states.get(key),
                    grant.contact_id,
                    grant.channel,
                    grant.topic,
                    _Command(ConsentStatus.GRANTED, grant.source, grant.basis, grant.address, grant.proof),
                    now,
                )
                for key, grant in zip(keys, grants, strict=True)
            ]
            writes = [write for write in planned if write is not None]
            try:
                if writes:
                    self._repository.append(writes)
            except LedgerWriteConflict as exc:
                if not exc.state_moved:
                    raise
                continue
            self._timeline.record_many([_timeline_entry(write) for write in writes], at=now)
            return [
                ConsentChange(state=write.state, entry=write.entry)
                if write is not None
                else ConsentChange(state=states[key], entry=None)
                for key, write in zip(keys, planned, strict=True)
            ]
        raise ConcurrentConsentUpdate()

    def mark_asked(self, contact_id: str, channel: Channel, topics: list[str], request_id: str) -> int:
        """Note that the confirmation request of pending request `request_id` (its `topics`)
        went out now: one moment for the whole request.

        Only a state still pending under that request is marked (a newer request, or an
        answer that came first, wins); returns how many were. No ledger entry: asking for a
        consent changes none.
        """
        now = self._clock.now()
        return sum(
            self._repository.mark_asked(contact_id, channel, topic, request_id, now) for topic in topics
        )

    # Queries ----------------------------------------------------------------------------

    def state(self, contact_id: str, channel: Channel, topic: str) -> ConsentState | None:
        """The current consent for one channel and topic (strongly consistent; None: never asked)."""
        return self._repository.get_state(contact_id, channel, topic)

    def states(self, contact_id: str) -> list[ConsentState]:
        """Every current consent of a contact, ordered by channel and topic."""
        return self._repository.list_states(contact_id)

    def entries(self, contact_id: str) -> list[ConsentEntry]:
        """The contact's whole ledger, oldest first: the proof (R-GDPR-2)."""
        return self._repository.list_entries(contact_id)

    def delete_all(self, contact_id: str) -> int:
        """Remove the contact's ledger and states (erasure only, R-GDPR-5); returns how many items."""
        return self._repository.delete_all(contact_id)

    # Internals --------------------------------------------------------------------------

    def _change(self, contact_id: str, channel: Channel, topic: str, command: _Command) -> ConsentChange:
        for _ in range(_ATTEMPTS):
            current = self._repository.get_state(contact_id, channel, topic)
            write = _plan(current, contact_id, channel, topic, command, self._clock.now())
            if write is None:
                assert current is not None  # only an existing state can make a change a no-op
                return ConsentChange(state=current, entry=None)
            try:
                self._repository.append([write])
            except LedgerWriteConflict as exc:
                if not exc.state_moved:
                    raise
                continue
            self._on_timeline(write)
            return ConsentChange(state=write.state, entry=write.entry)
        raise ConcurrentConsentUpdate()

    def _on_timeline(self, write: LedgerWrite) -> None:
        contact_id, kind, detail = _timeline_entry(write)
        self._timeline.record(contact_id, kind, detail, at=write.entry.timestamp)


def _timeline_entry(write: LedgerWrite) -> tuple[str, str, dict[str, object]]:
    """The timeline entry of an applied change: what changed, never the address or the proof."""
    entry = write.entry
    return (
        entry.contact_id,
        TimelineKind.CONSENT_CHANGED,
        {
            "channel": entry.channel.value,
            "topic": entry.topic,
            "status": entry.status.value,
            "previous_status": entry.previous_status.value if entry.previous_status else None,
            "basis": entry.basis.value if entry.basis else None,
            "source": entry.source.value,
            "entry_id": entry.entry_id,
        },
    )


def _normalized(channel: Channel, address: str) -> str:
    try:
        return normalize_address(channel, address)
    except InvalidContactField as exc:
        raise InvalidAddress(exc.message) from exc


def _grant_in_force(
    current: ConsentState | None, entry: ConsentEntry
) -> tuple[datetime | None, Basis | None]:
    """When and on what basis the consent in force was granted (R-CASL-1 computes expiry from it).

    A new grant replaces the old one, except that an implied grant never replaces an express
    grant still in force: express consent does not expire, implied consent does.
    """
    kept = (current.granted_at, current.granted_basis) if current else (None, None)
    if entry.status != ConsentStatus.GRANTED:
        return kept
    if current and current.is_granted and current.granted_basis == Basis.EXPRESS and entry.basis in _IMPLIED:
        return kept
    # Consent given before Baton heard of it (an import, an agent's note) dates from that day.
    obtained = entry.proof.obtained_at
    return (min(obtained, entry.timestamp) if obtained else entry.timestamp), entry.basis


def _plan(
    current: ConsentState | None,
    contact_id: str,
    channel: Channel,
    topic: str,
    command: _Command,
    now: datetime,
) -> LedgerWrite | None:
    """The entry and state a command leads to from `current`, or None when it changes nothing."""
    target = command.target
    previous = current.status if current else None
    if transition(previous, target, command.source) == Transition.NO_OP:
        return None

    if command.address is not None:
        covered: str | None = _normalized(channel, command.address)
    else:
        covered = current.address if current else None
    if covered is None and target != ConsentStatus.REVOKED:
        raise InvalidAddress(f"Consent on {channel.value} needs the address it covers.")

    # A grant of the very address a pending request named completes that double opt-in.
    confirms = None
    if current and previous == ConsentStatus.PENDING and target == ConsentStatus.GRANTED:
        confirms = current.entry_id if current.address == covered else None
    basis = command.basis
    if target == ConsentStatus.GRANTED and basis is None:
        basis = current.basis if confirms and current and current.basis else Basis.EXPRESS

    entry = ConsentEntry(
        entry_id=new_id(now),
        contact_id=contact_id,
        channel=channel,
        topic=topic,
        address=covered,
        status=target,
        previous_status=previous,
        basis=basis,
        source=command.source,
        timestamp=now,
        proof=command.proof or ConsentProof(),
        confirms_entry_id=confirms,
        request_id=command.request_id,
    )
    granted_at, granted_basis = _grant_in_force(current, entry)
    state = ConsentState(
        contact_id=contact_id,
        channel=channel,
        topic=topic,
        address=covered,
        status=target,
        basis=basis,
        source=command.source,
        entry_id=entry.entry_id,
        updated_at=now,
        requested_at=now if target == ConsentStatus.PENDING else (current.requested_at if current else None),
        granted_at=granted_at,
        granted_basis=granted_basis,
        revoked_at=now if target == ConsentStatus.REVOKED else (current.revoked_at if current else None),
        request_id=command.request_id if target == ConsentStatus.PENDING else None,
        # A new request has not been asked yet; any other change keeps when the last one was.
        asked_at=None if target == ConsentStatus.PENDING else (current.asked_at if current else None),
        version=current.version + 1 if current else 1,
    )
    return LedgerWrite(entry=entry, state=state, expected_version=current.version if current else None)
