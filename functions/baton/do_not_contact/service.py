"""Load do-not-contact lists and tell the dispatcher whether a number is on one (R-BR-1).

A list is the regulator's register ("Não Me Perturbe"), not a contact's data: it lives in its
own table, apart from suppression, so an opt-out, bounce, complaint or erasure never writes
over or deletes a list entry, a new opt-in (START) never releases one, and erasing a contact
leaves the list as it is (R-GDPR-5 keeps the person suppressed by hash; the list was never
theirs to erase). A number is hashed as its SMS suppression key is (the same salt and form),
so no number is stored in clear.

Each load is a new generation: its entries are written first, and only then does the list's
pointer move to it, so a load cut short leaves the list in force as it was, never empty or
half full. A number is on the list only while the generation in force holds it: a reload
without it releases it. Older generations are deleted once the new one is in force.
"""

from __future__ import annotations

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
    LoadSuperseded,
    UnknownList,
)
from baton.do_not_contact.models import LISTS, DoNotContactList, ListStatus
from baton.do_not_contact.repository import DoNotContactRepository
from baton.ids import new_id

logger = Logger(child=True)

# A list names numbers, not channels: one hash per number, under the SMS key of that number.
_HASHED_AS = Channel.SMS
# The refusals a 422 lists: enough to fix a file, bounded for a file that is all wrong.
_MAX_REPORTED = 50


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
        """Replace the list with `numbers` (a new generation in force); repeats count once.

        Raises UnknownList, InvalidListEntries (a number not of the list's country, writing
        nothing), or LoadSuperseded (a load begun later finished first; this one is dropped).
        """
        spec = list_named(name)
        hashes = self._hashes(spec, numbers)
        now = self._clock.now()
        status = ListStatus(list=name, generation=new_id(now), loaded_at=now, count=len(hashes))
        self._repository.begin(status)
        self._repository.write(name, status.generation, sorted(hashes))
        if not self._repository.switch(status):
            self._repository.discard(name, status.generation)
            raise LoadSuperseded(name)
        self._discard_older(status)
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

    def _discard_older(self, status: ListStatus) -> None:
        try:
            for generation in self._repository.generations(status.list):
                if generation < status.generation:
                    self._repository.discard(status.list, generation)
        except Exception:
            # The new generation is in force and nothing reads the old ones: the next load
            # deletes what is left. Logged (list and generation only), not failed.
            logger.exception("Older do-not-contact generations not deleted", extra={"list": status.list})
