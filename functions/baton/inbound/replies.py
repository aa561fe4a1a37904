"""Baton's own answers to an inbound text (HELP, the opt-out and opt-in confirmations): at most
one per inbound message and kind of answer, on the idempotency table with the one mechanism of
`baton.data.once` (R-TCPA-5: one opt-out confirmation; R-REL-4: no second send of one message).

SNS and Lambda deliver a text again when its handling failed, and the handling then runs again
from the start. The answer's entry is written before the provider hears of it, so the run
again never repeats an answer that may be out already:

| entry                  | the handling run again                                                  |
|------------------------|-------------------------------------------------------------------------|
| none                   | gates and sends                                                         |
| attempting, leased     | another invocation is calling the provider: `InProgress`, retried later |
| attempting, lease over | that invocation ended mid-call: recorded `message.unknown`, not sent    |
| sent / unknown         | the recording is finished under the same timeline event, nothing sent   |

The key is a hash of the inbound message id and the answer's purpose: no personal data.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from datetime import timedelta
from typing import Any, Final

from baton.clock import Clock, from_iso, to_iso
from baton.data.once import Entry, InProgress, Leases, OnceError, OnceTable, once_key
from baton.delivery.message import Purpose
from baton.delivery.ports import Stamp
from baton.ids import new_id

PREFIX: Final = "baton.inbound-reply"
# As long as the handler keeps the inbound message itself (SNS redelivers within hours).
KEEP: Final = timedelta(days=7)
ATTEMPTING: Final = "attempting"
SENT: Final = "sent"
UNKNOWN: Final = "unknown"
# What an attempt whose invocation ended without the provider's answer is recorded with.
INVOCATION_ENDED: Final = "invocation_ended"


class Reply:
    """The entry of one answer, written by the dispatcher around the provider call
    (`baton.delivery.ports.SendJournal`)."""

    def __init__(self, replies: Replies, key: str, entry: Entry | None) -> None:
        self._replies = replies
        self._key = key
        self._entry = entry

    @property
    def state(self) -> str | None:
        return self._entry.state if self._entry is not None else None

    @property
    def data(self) -> Mapping[str, Any]:
        return self._entry.data if self._entry is not None else {}

    def leased(self) -> bool:
        """An invocation is calling the provider with it right now."""
        entry = self._entry
        return entry is not None and entry.state == ATTEMPTING and entry.leased(self._replies.now())

    def stamp(self) -> Stamp:
        """Where the settled outcome is on the timeline."""
        return Stamp(at=from_iso(str(self.data["at"])), event_id=str(self.data["event_id"]))

    # SendJournal ---------------------------------------------------------------------------

    def attempting(self, provider: str) -> None:
        now = self._replies.now()
        self._write(ATTEMPTING, {"provider": provider}, lease_until=self._replies.leases.until(now))

    def not_sent(self) -> None:
        if self._entry is not None and self._entry.state == ATTEMPTING:
            self._replies.table.delete(self._entry)
            self._entry = None

    def accepted(self, provider: str, provider_message_id: str) -> Stamp:
        return self._settle(SENT, provider=provider, provider_message_id=provider_message_id)

    def ambiguous(self, provider: str, error_code: str) -> Stamp:
        return self._settle(UNKNOWN, provider=provider, error_code=error_code)

    # ---------------------------------------------------------------------------------------

    def abandon(self) -> None:
        """This invocation fails after the provider was called, without its answer: end the
        lease now, so the run again records the answer `unknown` instead of waiting."""
        if self._entry is not None and self._entry.state == ATTEMPTING:
            with suppress(OnceError):  # failing too, the lease still ends with the invocation
                self._write(ATTEMPTING, self.data, lease_until=self._replies.now())

    def _settle(self, state: str, **fields: str) -> Stamp:
        at = self._replies.now()
        stamp = {"at": to_iso(at), "event_id": new_id(at)}
        self._write(state, {**self.data, **fields, **stamp}, lease_until=None)
        return self.stamp()

    def _write(self, state: str, data: Mapping[str, Any], *, lease_until: Any) -> None:
        now = self._replies.now()
        if self._entry is None:
            entry = Entry(self._key, state, dict(data), 1, now + KEEP, lease_until)
        else:
            entry = self._entry.next(state, data, lease_until=lease_until)
        if not self._replies.table.write(entry, now):
            raise InProgress("another invocation answered this inbound message first")
        self._entry = entry


class Replies:
    """The answers to inbound texts, on one table; `leases` bound an attempt by the invocation."""

    def __init__(self, table: OnceTable, clock: Clock, leases: Leases | None = None) -> None:
        self.table = table
        self._clock = clock
        self.leases = leases or Leases()

    def now(self) -> Any:
        return self._clock.now()

    def of(self, inbound_message_id: str, purpose: Purpose) -> Reply:
        key = once_key(PREFIX, {"inbound_message_id": inbound_message_id, "purpose": str(purpose)})
        return Reply(self, key, self.table.read(key, self.now()))
