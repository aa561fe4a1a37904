"""Load do-not-contact lists and tell the dispatcher whether a number is on one (R-BR-1).

A list is the regulator's register ("Não Me Perturbe"), not a contact's data: it lives in its
own table, apart from suppression, so an opt-out, bounce, complaint or erasure never writes
over or deletes a list entry, a new opt-in (START) never releases one, and erasing a contact
leaves the list as it is (R-GDPR-5 keeps the person suppressed by hash; the list was never
theirs to erase). A number is hashed as its SMS suppression key is (the same salt and form),
so no number is stored in clear.

Each load is a new generation, sent in parts of at most MAX_NUMBERS numbers (`begin`, then
`store_part` for each, then `commit`; a list that fits one request is a load of one part,
`load`). A part's entries are written before its record, and the list's pointer moves to the
generation only when the commit finds every part it announces recorded, so a load cut short,
at any part, leaves the list in force as it was, never empty or half full. Generation ids sort
by the time the load began: a load begun earlier never replaces one begun later, however the
two interleave. A number is on the list only while the generation in force holds it: a reload
without it releases it. Older generations are deleted a bounded share per request (`_sweep`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

from aws_lambda_powertools import Logger

from baton.clock import Clock
from baton.consent.vocabulary import Channel
from baton.contacts.exceptions import InvalidContactField
from baton.contacts.normalize import normalize_phone
from baton.delivery.zones import number_country
from baton.do_not_contact.exceptions import (
    BadEntry,
    InvalidListEntries,
    ListNotLoaded,
    LoadCommitted,
    LoadIncomplete,
    LoadSuperseded,
    PartConflict,
    Shortfall,
    UnknownList,
    UnknownLoad,
)
from baton.do_not_contact.models import (
    LISTS,
    MAX_NUMBERS,
    DoNotContactList,
    ListStatus,
    LoadBegun,
    PartRecord,
    PartStored,
)
from baton.do_not_contact.repository import DoNotContactRepository
from baton.ids import new_id

logger = Logger(child=True)

# A list names numbers, not channels: one hash per number, under the SMS key of that number.
_HASHED_AS = Channel.SMS
# The refusals a 422 lists: enough to fix a file, bounded for a file that is all wrong.
_MAX_REPORTED = 50
# Entries of older generations one request deletes: as many as a part writes, so a load of N
# parts deletes at least N parts' worth of what the loads before it left (see `_sweep`).
SWEEP_ITEMS = MAX_NUMBERS


def list_named(name: str) -> DoNotContactList:
    """The list called `name`, or UnknownList."""
    found = LISTS.get(name)
    if found is None:
        raise UnknownList(name)
    return found


class DoNotContactService:
    def __init__(
        self, repository: DoNotContactRepository, hash_address: Callable[[Channel, str], str], clock: Clock
    ) -> None:
        """`hash_address` is the suppression service's `hash` (one salt, one form)."""
        self._repository = repository
        self._hash = hash_address
        self._clock = clock

    def load(self, name: str, numbers: Sequence[str]) -> ListStatus:
        """Replace the list with `numbers` (a load of one part, committed); repeats count once.

        Raises UnknownList, InvalidListEntries (a number not of the list's country, writing
        nothing), or LoadSuperseded (a load begun later finished first; this one is dropped).
        """
        hashes = self._hashes(list_named(name), numbers)  # before anything is written
        begun = self.begin(name)
        self._store(name, begun.load_id, 1, len(numbers), hashes)
        return self.commit(name, begun.load_id, parts=1)

    def begin(self, name: str) -> LoadBegun:
        """Begin a load: a new generation, in force only once committed. Raises UnknownList."""
        list_named(name)
        now = self._clock.now()
        status = ListStatus(list=name, generation=new_id(now), loaded_at=now, count=0)
        self._repository.begin(status)
        return LoadBegun(list=name, load_id=status.generation, begun_at=now)

    def store_part(self, name: str, load_id: str, part: int, numbers: Sequence[str]) -> PartStored:
        """Store part `part` of the load; the same part sent again writes the same entries.

        Raises UnknownList, UnknownLoad, LoadCommitted, LoadSuperseded, InvalidListEntries
        (indexes within the part) or PartConflict (the part was stored with other numbers),
        each before anything is written.
        """
        return self._store(name, load_id, part, len(numbers), self._hashes(list_named(name), numbers))

    def commit(self, name: str, load_id: str, parts: int, numbers: int | None = None) -> ListStatus:
        """Put the load in force if parts 1..`parts` (and, when given, `numbers` numbers in all)
        are stored; a commit sent again answers the same. The count is each part's distinct
        numbers, summed: a number in two parts counts in each, since telling would mean reading
        millions of entries back within one request.

        Raises UnknownList, UnknownLoad, LoadIncomplete (naming what is missing; nothing
        changed) or LoadSuperseded (a load begun later is in force; this one will be deleted).
        """
        list_named(name)
        current = self._repository.current(name)
        if current is not None and current.generation == load_id:
            return current
        self._refuse_closed(name, load_id, current)
        stored = self._repository.parts(name, load_id)
        shortfalls = _shortfalls(stored, parts, numbers)
        if shortfalls:
            raise LoadIncomplete(shortfalls)
        status = ListStatus(
            list=name,
            generation=load_id,
            loaded_at=self._clock.now(),
            count=sum(record.count for record in stored),
        )
        if not self._repository.switch(status):
            current = self._repository.current(name)
            if current is not None and current.generation == load_id:
                return current  # the same commit, sent twice at once, won the other time
            self._sweep(name)
            raise LoadSuperseded(name)
        self._sweep(name)
        return status

    def status(self, name: str) -> ListStatus:
        """The generation in force. Raises UnknownList, ListNotLoaded."""
        list_named(name)
        current = self._repository.current(name)
        if current is None:
            raise ListNotLoaded(name)
        return current

    def listed(self, address: str) -> DoNotContactList | None:
        """The list in force that holds this number, or None. Reads (strongly consistent) only
        the lists of the number's country: a number of any other country costs no read."""
        country = number_country(address)
        for spec in LISTS.values():
            if spec.country != country:
                continue
            current = self._repository.current(spec.name)
            if current is not None and self._repository.contains(
                spec.name, current.generation, self._hash(_HASHED_AS, address)
            ):
                return spec
        return None

    def _store(self, name: str, load_id: str, part: int, received: int, hashes: set[str]) -> PartStored:
        self._refuse_closed(name, load_id, self._repository.current(name))
        ordered = sorted(hashes)
        record = PartRecord(part=part, received=received, count=len(ordered), digest=_digest(ordered))
        stored = self._repository.part(name, load_id, part)
        if stored is not None and stored.digest != record.digest:
            raise PartConflict(part)
        self._repository.write(name, load_id, ordered)
        self._repository.record_part(name, load_id, record)  # after its entries: see the module doc
        self._sweep(name)
        return PartStored(list=name, load_id=load_id, part=part, received=received, count=record.count)

    def _refuse_closed(self, name: str, load_id: str, current: ListStatus | None) -> None:
        """A load takes parts and a commit only while begun, not in force, and not superseded."""
        if current is not None and current.generation > load_id:
            raise LoadSuperseded(name)
        if current is not None and current.generation == load_id:
            raise LoadCommitted(name, load_id)
        if not self._repository.begun(name, load_id):
            raise UnknownLoad(name, load_id)

    def _hashes(self, spec: DoNotContactList, numbers: Sequence[str]) -> set[str]:
        hashes: set[str] = set()
        refused: list[BadEntry] = []
        for index, raw in enumerate(numbers):
            try:
                # A national number is read as one of the list's country (the register's files).
                number = normalize_phone(raw, spec.country)
            except InvalidContactField as exc:
                refused.append(BadEntry(index, exc.message))
                continue
            if number_country(number) != spec.country:
                refused.append(
                    BadEntry(index, f"Not a number of {spec.country}: this list holds only those.")
                )
                continue
            hashes.add(self._hash(_HASHED_AS, number))
        if refused:
            raise InvalidListEntries(refused[:_MAX_REPORTED])
        return hashes

    def _sweep(self, name: str) -> None:
        """Delete at most SWEEP_ITEMS entries of generations older than the one in force.

        A register of millions of numbers cannot be deleted within one request (API Gateway
        gives 29 seconds), so every part and every commit deletes a bounded share, oldest
        generation first, and the next request goes on from there. A TTL would not do: an
        entry's generation is superseded at a time unknown when it is written, and giving
        millions of entries a TTL at commit is the same unbounded write. Nothing reads an older
        generation, so one waiting for later requests costs storage, never a wrong answer; a
        load of N parts deletes at least N parts of what came before, so they never pile up.
        """
        try:
            current = self._repository.current(name)
            if current is None:
                return
            budget = SWEEP_ITEMS
            for generation in self._repository.generations(name):
                if generation >= current.generation or budget <= 0:
                    break
                budget -= self._repository.discard(name, generation, budget)
        except Exception:
            # The new generation is in force and nothing reads the old ones: a later request
            # deletes what is left. Logged (list only), not failed.
            logger.exception("Older do-not-contact generations not deleted", extra={"list": name})


def _digest(hashes: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(hashes).encode()).hexdigest()


def _shortfalls(stored: Sequence[PartRecord], parts: int, numbers: int | None) -> list[Shortfall]:
    """What the stored parts lack against what the commit announces (empty: the load is whole)."""
    announced = set(range(1, parts + 1))
    arrived = {record.part for record in stored}
    shortfalls = []
    if missing := sorted(announced - arrived):
        shortfalls.append(Shortfall("parts", f"Part(s) {_listing(missing)} not stored."))
    if extra := sorted(arrived - announced):
        shortfalls.append(
            Shortfall("parts", f"Part(s) {_listing(extra)} stored beyond the {parts} announced.")
        )
    received = sum(record.received for record in stored)
    if numbers is not None and not shortfalls and received != numbers:
        shortfalls.append(Shortfall("numbers", f"The parts carried {received} numbers, not {numbers}."))
    return shortfalls


def _listing(parts: Sequence[int]) -> str:
    shown = ", ".join(str(part) for part in parts[:_MAX_REPORTED])
    more = len(parts) - _MAX_REPORTED
    return f"{shown} and {more} more" if more > 0 else shown
