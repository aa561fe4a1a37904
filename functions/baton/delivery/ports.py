"""What the dispatcher needs from the rest of Baton, as small Protocols (the consent,
suppression, contacts and timeline packages provide the real ones; tests pass fakes)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
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
    def record(self, contact_id: str, kind: str, detail: Mapping[str, Any]) -> object: ...
