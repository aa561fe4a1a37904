"""What the dispatcher needs from the rest of Baton, as small Protocols (the consent,
suppression, contacts and timeline packages provide the real ones; tests pass fakes)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from baton.consent.vocabulary import Channel


class SuppressionEntry(Protocol):
    @property
    def reason(self) -> str: ...

    @property
    def created_at(self) -> datetime: ...


class SuppressionChecker(Protocol):
    def check(self, channel: Channel, address: str) -> SuppressionEntry | None:
        """The suppression entry of this address on this channel, if any."""
        ...


class ListedOn(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def rule(self) -> str: ...


class DoNotContactChecker(Protocol):
    def listed(self, address: str) -> ListedOn | None:
        """The do-not-contact list in force that holds this number, read strongly consistent."""
        ...


class ConsentState(Protocol):
    @property
    def status(self) -> str: ...

    @property
    def address(self) -> str | None:
        """The address the consent covers."""
        ...

    @property
    def granted_at(self) -> datetime | None: ...

    @property
    def granted_basis(self) -> str | None: ...


class ConsentReader(Protocol):
    def state(self, contact_id: str, channel: Channel, topic: str) -> ConsentState | None:
        """The current consent for (channel, topic), read strongly consistent (R-TCPA-4)."""
        ...


class AddressBook(Protocol):
    def is_unconfirmed(self, contact_id: str, channel: Channel, address: str) -> bool:
        """Whether the address is the contact's pending one (named by a form, not yet confirmed)."""
        ...


class TimelineRecorder(Protocol):
    def record(
        self,
        contact_id: str,
        kind: str,
        detail: Mapping[str, Any],
        at: datetime | None = None,
        event_id: str | None = None,
    ) -> object:
        """Append an event; with `event_id` given, an event already stored under the same
        (`at`, `event_id`) raises `EventExists` instead of being written twice."""
        ...


@dataclass(frozen=True, slots=True)
class Stamp:
    """When a send's outcome happened and the timeline event id it is recorded under: fixed
    once, so recording it again (a retried task) finds the same event instead of adding one."""

    at: datetime
    event_id: str


class SendJournal(Protocol):
    """A journey's own record of one send, written around the provider call so that a task run
    again (a retry, a redrive) never sends twice and always finishes recording (R-REL-6)."""

    def attempting(self, provider: str) -> None:
        """Just before the provider is called. Raises when it cannot be written: then the
        message is not sent."""
        ...

    def not_sent(self) -> None:
        """The provider certainly did not take the message (throttled, refused, unreachable)."""
        ...

    def accepted(self, provider: str, provider_message_id: str) -> Stamp:
        """The provider took the message; `message.sent` is recorded with the stamp returned."""
        ...

    def ambiguous(self, provider: str, error_code: str) -> Stamp:
        """No answer says whether the provider took it; `message.unknown` gets the stamp."""
        ...


class BuiltInCounter(Protocol):
    def counted(self, builtin_id: str, measure: str, channel: str, day: date) -> None:
        """Count one send of a built-in message that has no contact timeline; never raises
        (`baton.figures.recorder.FiguresRecorder.counted`)."""
