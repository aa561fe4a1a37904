"""Contact use cases on the data plane: upsert, read, look up, erase and export (R-GDPR-5)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from baton.clock import Clock
from baton.consent.service import ConsentService
from baton.consent.vocabulary import Channel, ConsentStatus
from baton.contacts.exceptions import (
    AddressInUse,
    ConcurrentContactUpdate,
    ContactIdMismatch,
    ContactNotFound,
    InvalidContactField,
    StaleContact,
)
from baton.contacts.models import (
    ConsentExport,
    Contact,
    ContactExport,
    ContactInput,
    ContactRecord,
    ErasureReport,
    PlannedUpsert,
    Sales,
    UpsertResult,
)
from baton.contacts.normalize import PHONE_CHANNELS, normalize_address, normalize_email, normalize_phone
from baton.contacts.repository import ContactRepository
from baton.ids import new_id
from baton.suppression.models import SuppressionEntry, SuppressionReason
from baton.suppression.service import SuppressionService
from baton.timeline.models import TimelineKind
from baton.timeline.service import TimelineService

_ATTEMPTS = 3
_ERASURE_SOURCE = "erasure"
# The profile field an address of each channel lives in, and where it waits unconfirmed.
_PROFILE_FIELD = {Channel.EMAIL: "email", **dict.fromkeys(PHONE_CHANNELS, "phone")}
_PENDING_FIELD = {Channel.EMAIL: "pending_email", **dict.fromkeys(PHONE_CHANNELS, "pending_phone")}


class ContactService:
    def __init__(
        self,
        repository: ContactRepository,
        consent: ConsentService,
        timeline: TimelineService,
        suppression: SuppressionService,
        clock: Clock,
    ) -> None:
        self._repository = repository
        self._consent = consent
        self._timeline = timeline
        self._suppression = suppression
        self._clock = clock

    def upsert(self, contact_id: str | None, data: ContactInput) -> UpsertResult:
        """Create or update a contact. `contact_id` None (and none in `data`): a new id is made.

        Merge: a field present in `data` replaces the stored one (`attributes` and `sales` as a
        whole); a field sent as null clears it; a field left out keeps its stored value. An
        update that changes nothing writes nothing. Consent is never touched: an upsert after
        erasure does not re-subscribe anyone.

        Raises `ContactIdMismatch` (body and path ids differ), `AddressInUse` (the email
        belongs to another contact), `ConcurrentContactUpdate`.
        """
        if data.contact_id and contact_id and data.contact_id != contact_id:
            raise ContactIdMismatch()
        target = contact_id or data.contact_id or new_id(self._clock.now())
        for _ in range(_ATTEMPTS):
            current = self._repository.get(target)
            planned = plan_upsert(target, data, current, self._clock.now())
            if planned is None:
                assert current is not None  # only a stored contact can be left as it is
                return UpsertResult(contact=current.to_contact(), created=False)
            record, changed = planned
            now = record.updated_at
            self._check_email_is_free(record, current)
            try:
                self._repository.put(record, current.version if current else None)
            except StaleContact:
                continue
            kind = TimelineKind.CONTACT_CREATED if current is None else TimelineKind.CONTACT_UPDATED
            # Field names only: the values are in the profile, and the timeline is not a second copy.
            self._timeline.record(target, kind, {"fields": list(changed)}, at=now)
            return UpsertResult(contact=record.to_contact(), created=current is None)
        raise ConcurrentContactUpdate(target)

    def plan_many(self, items: Sequence[tuple[str, ContactInput]]) -> list[PlannedUpsert]:
        """What `upsert` would do to each (contact_id, data), decided from one bulk read of the
        stored contacts; nothing is written. Ids must be distinct. See `emails_in_use`."""
        now = self._clock.now()
        stored = self._repository.get_many([contact_id for contact_id, _ in items])
        planned = []
        for contact_id, data in items:
            current = stored.get(contact_id)
            change = plan_upsert(contact_id, data, current, now)
            record, changed = change if change is not None else (None, [])
            planned.append(PlannedUpsert(contact_id, current, record, changed))
        return planned

    def emails_in_use(self, planned: Sequence[PlannedUpsert]) -> list[int]:
        """The positions in `planned` whose new email already belongs to another stored contact
        (one email is one contact, as `upsert` checks with `AddressInUse`): every new email
        looked up at once, and a contact the index names re-read, as the index may lag."""
        asked = {
            position: plan.record.email
            for position, plan in enumerate(planned)
            if plan.record is not None
            and plan.record.email is not None
            and (plan.current is None or plan.current.email != plan.record.email)
        }
        owners = self._repository.email_owners(set(asked.values()))
        others = {
            position: owners.get(email, set()) - {planned[position].contact_id}
            for position, email in asked.items()
        }
        stored = self._repository.get_many(sorted(set().union(*others.values())))
        return [
            position
            for position, ids in others.items()
            if any(stored[other].email == asked[position] for other in ids if other in stored)
        ]

    def store_many(self, planned: Sequence[PlannedUpsert]) -> None:
        """Write every planned change in bulk, each with its `contact.created`/`contact.updated`
        timeline entry naming the fields, as `upsert` records it. Unconditional: a change made
        to one of these contacts between `plan_many` and this write is overwritten."""
        changes = [plan for plan in planned if plan.record is not None]
        if not changes:
            return
        self._repository.put_many([plan.profile for plan in changes])
        self._timeline.record_many(
            [
                (
                    plan.contact_id,
                    TimelineKind.CONTACT_CREATED if plan.current is None else TimelineKind.CONTACT_UPDATED,
                    {"fields": list(plan.changed)},
                )
                for plan in changes
            ],
            at=changes[0].profile.updated_at,
        )

    def create_signup(
        self, contact_id: str, profile: ContactInput, pending: Mapping[Channel, str]
    ) -> Contact:
        """A new contact made by an anonymous sign-up: its profile, and its addresses only pending.

        A form proves nothing about who owns an address, so the addresses it names wait in
        `pending_email` / `pending_phone` until their owner confirms (`confirm_address`).
        """
        now = self._clock.now()
        fields = {name: getattr(profile, name) for name in profile.model_fields_set - {"contact_id"}}
        pending_fields = {_PENDING_FIELD[channel]: address for channel, address in pending.items()}
        record = _new_record(contact_id, {**fields, **pending_fields}, now)
        self._repository.put(record, None)
        changed = sorted([*fields, *pending_fields])
        self._timeline.record(contact_id, TimelineKind.CONTACT_CREATED, {"fields": changed}, at=now)
        return record.to_contact()

    def confirm_address(self, contact_id: str, channel: Channel, address: str) -> bool:
        """The owner of the contact's pending address confirmed it: it becomes the contact's own.

        True when the address is now the contact's. An email that meanwhile became another
        contact's stays off this profile (one email is one contact): only the pending mark goes.
        """
        pending_field, profile_field = _PENDING_FIELD[channel], _PROFILE_FIELD[channel]
        for _ in range(_ATTEMPTS):
            current = self._repository.get(contact_id)
            if current is None or getattr(current, pending_field) != address:
                return current is not None and bool(getattr(current, profile_field) == address)
            update: dict[str, Any] = {pending_field: None, profile_field: address}
            if channel == Channel.EMAIL and self._email_taken(address, contact_id):
                del update[profile_field]
            record = current.model_copy(
                update={**update, "updated_at": self._clock.now(), "version": current.version + 1}
            )
            try:
                self._repository.put(record, current.version)
            except StaleContact:
                continue
            self._timeline.record(contact_id, TimelineKind.CONTACT_UPDATED, {"fields": sorted(update)})
            return profile_field in update
        raise ConcurrentContactUpdate(contact_id)

    def get(self, contact_id: str) -> Contact:
        """The contact; raises `ContactNotFound` (404)."""
        return self._record(contact_id).to_contact()

    def generation(self, contact_id: str) -> str | None:
        """The nonce signed links of this contact carry; raises `ContactNotFound`."""
        return self._record(contact_id).generation

    def generations(self, contact_ids: Sequence[str]) -> dict[str, str | None]:
        """Each existing contact's generation, in batch reads (a campaign batch names its
        executions with them); an erased contact is absent."""
        return {
            contact_id: record.generation
            for contact_id, record in self._repository.get_many(contact_ids).items()
        }

    def link_holder(self, contact_id: str, generation: str | None) -> Contact | None:
        """The contact a signed link was made for; None once it is erased, even when a later
        contact got the same id (its generation differs)."""
        record = self._repository.get(contact_id)
        if record is None or record.generation != generation:
            return None
        return record.to_contact()

    def is_unconfirmed(self, contact_id: str, channel: Channel, address: str) -> bool:
        """Whether `address` is one the contact's sign-up named but its owner has not confirmed.

        The send gate asks this before every message but the confirmation request itself.
        """
        record = self._repository.get(contact_id)
        field = _PENDING_FIELD.get(channel)
        if record is None or field is None or getattr(record, field) is None:
            return False
        try:
            normalized = normalize_address(channel, address)
        except InvalidContactField:
            return False
        return bool(
            getattr(record, field) == normalized and getattr(record, _PROFILE_FIELD[channel]) != normalized
        )

    def find_by_email(self, email: str) -> Contact | None:
        """The contact with this email, in any letter case; None when none (or not an email)."""
        try:
            normalized = normalize_email(email)
        except InvalidContactField:
            return None
        found = self._repository.find_by_email(normalized)
        return found[0].to_contact() if found else None

    def find_by_phone(self, phone: str, country: str | None = None) -> list[Contact]:
        """Contacts with this number (any common form; `country` for national forms).

        A list: a number may be shared (a household, a switchboard); an inbound STOP revokes
        for every contact on it. Empty when none or not a valid number.
        """
        try:
            normalized = normalize_phone(phone, country)
        except InvalidContactField:
            return []
        return [record.to_contact() for record in self._repository.find_by_phone(normalized)]

    def find_by_pending_phone(self, phone: str) -> list[Contact]:
        """Contacts whose sign-up named this number and wait for its own YES (R-CTIA-3)."""
        try:
            normalized = normalize_phone(phone)
        except InvalidContactField:
            return []
        return [record.to_contact() for record in self._repository.find_by_pending_phone(normalized)]

    def erase(self, contact_id: str) -> ErasureReport:
        """Forget a contact (R-GDPR-5): the profile, every consent entry and state, the timeline.

        First the contact's confirmed addresses (`confirmed_addresses`) are suppressed by salted
        hash with reason `erased`, so the person is not messaged again; an address a form named
        that its owner never confirmed is only forgotten: suppressing it would opt a stranger out
        of a brand they never dealt with. The profile goes last, so an interrupted erasure can
        simply be re-run.
        Idempotent: erasing an unknown or already erased contact removes nothing and succeeds.
        """
        record = self._repository.get(contact_id)
        suppressed = [
            self._suppression.add(channel, address, SuppressionReason.ERASED, _ERASURE_SOURCE)
            for channel, address in self._confirmed(record, contact_id)
        ]
        consent_removed = self._consent.delete_all(contact_id)
        timeline_removed = self._timeline.delete_all(contact_id)
        contact_removed = self._repository.delete(contact_id)
        return ErasureReport(
            contact_id=contact_id,
            contact_removed=contact_removed,
            consent_items_removed=consent_removed,
            timeline_events_removed=timeline_removed,
            suppressed=suppressed,
        )

    def export(self, contact_id: str) -> ContactExport:
        """Everything held on a contact, machine-readable (R-GDPR-5, R-LGPD-2); `ContactNotFound`."""
        record = self._record(contact_id)
        suppression: list[SuppressionEntry] = []
        for channel, address in self._addresses(record, contact_id):
            entry = self._suppression.check(channel, address)
            if entry is not None:
                suppression.append(entry)
        return ContactExport(
            exported_at=self._clock.now(),
            profile=record.to_profile(),
            consent=ConsentExport(
                states=self._consent.states(contact_id), entries=self._consent.entries(contact_id)
            ),
            timeline=self._timeline.all(contact_id),
            suppression=suppression,
        )

    def _record(self, contact_id: str) -> ContactRecord:
        record = self._repository.get(contact_id)
        if record is None:
            raise ContactNotFound(contact_id)
        return record

    def _check_email_is_free(self, record: ContactRecord, current: ContactRecord | None) -> None:
        # Emails identify people in sign-up flows, so one email is one contact. Phones may be
        # shared. Check-then-write: two simultaneous creations can still race (rare, and the
        # GSI cannot enforce uniqueness); lookups then return the lowest contact id, deterministically.
        if record.email is None or (current is not None and current.email == record.email):
            return
        if self._email_taken(record.email, record.contact_id):
            raise AddressInUse("email")

    def _email_taken(self, email: str, contact_id: str) -> bool:
        return any(other.contact_id != contact_id for other in self._repository.find_by_email(email))

    def confirmed_addresses(self, contact_id: str) -> list[tuple[Channel, str]]:
        """(channel, address) pairs that are the contact's own: its profile's email and phone,
        and any address a consent was granted for (its owner confirmed it, or the company
        vouched for it). Never a pending address alone: anyone can type it into a form."""
        return self._confirmed(self._repository.get(contact_id), contact_id)

    def every_address(self, contact_id: str) -> list[str]:
        """Every email and number Baton holds for the contact: the profile's, the pending ones and
        each the consent ledger names (an address changed since included). What erasure looks
        for where AWS kept a message about the person (R-GDPR-5). Raises ContactNotFound."""
        record = self._record(contact_id)
        found = [record.email, record.phone, record.pending_email, record.pending_phone]
        found += [entry.address for entry in self._consent.entries(contact_id)]
        return list(dict.fromkeys(address for address in found if address))

    def drop_pending(self, contact_id: str, channel: Channel) -> str | None:
        """Forget the contact's pending address on `channel` (its requests were withdrawn): no
        later confirmation attaches it. Returns the address dropped, if there was one."""
        field = _PENDING_FIELD[channel]
        for _ in range(_ATTEMPTS):
            current = self._repository.get(contact_id)
            address = getattr(current, field) if current is not None else None
            if current is None or address is None:
                return None
            record = current.model_copy(
                update={field: None, "updated_at": self._clock.now(), "version": current.version + 1}
            )
            try:
                self._repository.put(record, current.version)
            except StaleContact:
                continue
            self._timeline.record(contact_id, TimelineKind.CONTACT_UPDATED, {"fields": [field]})
            return str(address)
        raise ConcurrentContactUpdate(contact_id)

    def _confirmed(self, record: ContactRecord | None, contact_id: str) -> list[tuple[Channel, str]]:
        pairs = self._profile_addresses(record)
        for entry in self._consent.entries(contact_id):
            if entry.status == ConsentStatus.GRANTED and entry.address:
                pairs.append((entry.channel, entry.address))
        return list(dict.fromkeys(pairs))

    @staticmethod
    def _profile_addresses(record: ContactRecord | None) -> list[tuple[Channel, str]]:
        pairs: list[tuple[Channel, str]] = []
        if record is not None and record.email:
            pairs.append((Channel.EMAIL, record.email))
        if record is not None and record.phone:
            pairs.extend((channel, record.phone) for channel in PHONE_CHANNELS)
        return pairs

    def _addresses(self, record: ContactRecord | None, contact_id: str) -> list[tuple[Channel, str]]:
        """(channel, address) pairs Baton holds for the contact: profile and consent states."""
        pairs = self._profile_addresses(record)
        for state in self._consent.states(contact_id):
            if state.address:
                pairs.append((state.channel, state.address))
        return list(dict.fromkeys(pairs))


def plan_upsert(
    contact_id: str, data: ContactInput, current: ContactRecord | None, now: datetime
) -> tuple[ContactRecord, list[str]] | None:
    """The record an upsert of `data` over `current` stores, and the fields it changes (sorted);
    None when it changes nothing. The merge rule of `ContactService.upsert`, shared with the bulk
    import so that both store the same contact from the same input. Pure."""
    given = {name: _cleared(name, getattr(data, name)) for name in data.model_fields_set - {"contact_id"}}
    if current is None:
        return _new_record(contact_id, given, now), sorted(given)
    changed = sorted(name for name, value in given.items() if getattr(current, name) != value)
    if not changed:
        return None
    update = {name: given[name] for name in changed}
    return current.model_copy(update={**update, "updated_at": now, "version": current.version + 1}), changed


def _new_record(contact_id: str, fields: Mapping[str, Any], now: datetime) -> ContactRecord:
    """A contact as first stored: version 1, with a generation of its own."""
    return ContactRecord.model_validate(
        {
            "contact_id": contact_id,
            **fields,
            "created_at": now,
            "updated_at": now,
            "version": 1,
            "generation": _new_generation(),
        }
    )


def _new_generation() -> str:
    return secrets.token_urlsafe(16)


def _cleared(name: str, value: Any) -> Any:
    """The stored value for a field sent as null: empty map, default sales, else None."""
    if value is not None:
        return value
    if name == "attributes":
        return {}
    if name == "sales":
        return Sales()
    return None
