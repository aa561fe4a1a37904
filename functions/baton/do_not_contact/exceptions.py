"""Errors of the do-not-contact package."""

from __future__ import annotations

from dataclasses import dataclass


class DoNotContactError(Exception):
    """Base of every do-not-contact error."""


class UnknownList(DoNotContactError, LookupError):
    """No do-not-contact list has this name."""

    def __init__(self, name: str) -> None:
        super().__init__(f"There is no do-not-contact list {name!r}.")


class ListNotLoaded(DoNotContactError, LookupError):
    """The list exists but no load of it has finished yet."""

    def __init__(self, name: str) -> None:
        super().__init__(f"The do-not-contact list {name!r} has not been loaded.")


@dataclass(frozen=True)
class BadEntry:
    index: int  # 0-based position in the numbers given
    message: str


class InvalidListEntries(DoNotContactError, ValueError):
    """Some numbers of a load are not numbers of the list's country: nothing was written."""

    def __init__(self, entries: list[BadEntry]) -> None:
        super().__init__(f"{len(entries)} number(s) refused, the first at index {entries[0].index}.")
        self.entries = entries


class LoadSuperseded(DoNotContactError):
    """A newer load of the same list finished first; this one was discarded."""

    def __init__(self, name: str) -> None:
        super().__init__(f"A newer load of {name!r} finished first; this load was discarded.")


class UnknownLoad(DoNotContactError, LookupError):
    """No load of this list has this id (never begun, or discarded as older than the list in force)."""

    def __init__(self, name: str, load_id: str) -> None:
        super().__init__(f"There is no load {load_id} of the do-not-contact list {name!r}.")


class LoadCommitted(DoNotContactError):
    """The load is the list in force already: a part sent now would change it half-way."""

    def __init__(self, name: str, load_id: str) -> None:
        super().__init__(f"The load {load_id} of {name!r} is committed; begin a new load to change the list.")


class PartConflict(DoNotContactError):
    """A part sent again with other numbers than the first time: nothing was written."""

    def __init__(self, part: int) -> None:
        super().__init__(f"Part {part} was stored with other numbers; a part sent again must be the same.")
        self.part = part


@dataclass(frozen=True)
class Shortfall:
    field: str  # `parts` or `numbers`, as in the commit body
    message: str


class LoadIncomplete(DoNotContactError):
    """The stored parts are not the ones the commit announced: the list in force is unchanged."""

    def __init__(self, shortfalls: list[Shortfall]) -> None:
        super().__init__("The load is not complete; the list in force is unchanged.")
        self.shortfalls = shortfalls
