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
