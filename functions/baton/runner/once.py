"""A journey's sends, at most one per pass through a step and channel (R-REL-6), kept on the
idempotency table with the one mechanism of `baton.data.once`.

Each (execution, step, pass, channel) has one ledger entry. Its hash is the Baton message id the
message carries to the provider (SES message tags, End User Messaging `Context`), so the
provider's own events name the entry even when its answer to the send was lost.

| entry | meaning | the task run again (Retry, redrive) |
|---|---|---|
| none | never tried | gates and sends |
| attempting, leased | an invocation is calling the provider | retries later |
| attempting, lease over | it died mid-call: the provider may have it | records `unknown` |
| accepted | the provider took it, recording unfinished | finishes `message.sent` |
| sent / unknown | settled | answers the stored attempt |

Nothing in the last three rows is sent again, except `unknown` where a transactional step opts
into `at_least_once`.

The entry is written before the provider hears of the message: whatever happens after the
provider took it (a crash before the timeline write, a Lambda timeout, a failing DynamoDB
write) the next run finds it and finishes the recording instead of sending again.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from dataclasses import replace
from datetime import timedelta
from typing import Any, Final

from baton.clock import Clock, SystemClock, from_iso, to_iso
from baton.data.once import Entry, InProgress, Leases, Once, OnceError, OnceTable, RemainingTime, once_key
from baton.delivery.ports import Stamp
from baton.ids import new_id

# Longer than a redrive can come back (Standard executions are redriven within 14 days).
RECORD_DAYS: Final = 30
KEEP: Final = timedelta(days=RECORD_DAYS)
# Stable across deploys and function renames, so a send recorded before a deploy still counts.
STEP_PREFIX: Final = "baton.journey-step"
SEND_PREFIX: Final = "baton.journey-send"

ATTEMPTING: Final = "attempting"
ACCEPTED: Final = "accepted"
SENT: Final = "sent"
UNKNOWN: Final = "unknown"


def message_id(parts: Mapping[str, str]) -> str:
    """The Baton message id of one send: the hash part of its ledger key (no personal data)."""
    return once_key(SEND_PREFIX, parts).split("#", 1)[1]


def _ledger_key(baton_message_id: str) -> str:
    return f"{SEND_PREFIX}#{baton_message_id}"


class ChannelJournal:
    """The ledger entry of one send, as the dispatcher writes it around the provider call
    (`baton.delivery.ports.SendJournal`)."""

    def __init__(
        self, ledger: SendLedger, baton_message_id: str, labels: Mapping[str, str], entry: Entry | None
    ) -> None:
        self._ledger = ledger
        self.message_id = baton_message_id
        self._labels = dict(labels)
        self.entry = entry
        self._before_attempt: Entry | None = None

    @property
    def state(self) -> str | None:
        return self.entry.state if self.entry is not None else None

    def stale(self) -> bool:
        """An attempt whose invocation is over without saying how the provider answered."""
        entry = self.entry
        return entry is not None and entry.state == ATTEMPTING and not entry.leased(self._ledger.now())

    def leased(self) -> bool:
        entry = self.entry
        return entry is not None and entry.state == ATTEMPTING and entry.leased(self._ledger.now())

    def reached_provider(self) -> bool:
        """The provider took this message, or may have: an earlier run called it (accepted,
        unknown, sent, or an attempt whose answer the ledger does not have)."""
        return self.state in (ATTEMPTING, ACCEPTED, UNKNOWN, SENT)

    @property
    def data(self) -> Mapping[str, Any]:
        return self.entry.data if self.entry is not None else {}

    def stamp(self, state: str = ACCEPTED) -> Stamp:
        """The stamp of this send's `message.sent` (accepted) or `message.unknown` event."""
        return Stamp(at=from_iso(str(self.data[f"{state}_at"])), event_id=str(self.data[f"{state}_event_id"]))

    # SendJournal --------------------------------------------------------------------------

    def attempting(self, provider: str) -> None:
        self._before_attempt = self.entry
        now = self._ledger.now()
        data = {**self._labels, "message_id": self.message_id, "provider": provider}
        self._write(ATTEMPTING, data, lease_until=self._ledger.leases.until(now))

    def not_sent(self) -> None:
        if self.entry is not None and self.entry.state == ATTEMPTING:
            before = self._before_attempt
            if before is not None:
                # Sending again (at least once) was refused, but an earlier attempt may have
                # reached the provider: that stays on record, stamp and all.
                self._write(before.state, before.data)
                return
            self._ledger.table.delete(self.entry)
            self.entry = None

    def accepted(self, provider: str, provider_message_id: str) -> Stamp:
        return self.settle(ACCEPTED, provider=provider, provider_message_id=provider_message_id)

    def ambiguous(self, provider: str, error_code: str) -> Stamp:
        return self.settle(UNKNOWN, provider=provider, error_code=error_code)

    # --------------------------------------------------------------------------------------

    def settle(self, state: str, **fields: str) -> Stamp:
        """Move to `state`, stamping its timeline event once: recording it again finds it."""
        previous = self.data
        at = str(previous.get(f"{state}_at") or to_iso(self._ledger.now()))
        event_id = str(previous.get(f"{state}_event_id") or new_id(from_iso(at)))
        stamp = {f"{state}_at": at, f"{state}_event_id": event_id}
        self._write(state, {**self._labels, **previous, **fields, **stamp}, lease_until=None)
        return Stamp(at=from_iso(at), event_id=event_id)

    def finish(self, attempt: Mapping[str, Any]) -> None:
        """The outcome is on the timeline: keep the attempt the task answers from now on."""
        self._write(
            SENT if attempt.get("outcome") == SENT else UNKNOWN, {**self.data, "attempt": dict(attempt)}
        )

    def forget(self) -> None:
        """Delete the entry (its contact was erased): it names the contact for no purpose now."""
        if self.entry is not None:
            self._ledger.table.delete(self.entry)
            self.entry = None

    def abandon(self) -> None:
        """This invocation fails after calling the provider without knowing its answer: end the
        lease now, so the next run records the attempt `unknown` instead of waiting for it."""
        if self.entry is not None and self.entry.state == ATTEMPTING:
            # If the table is failing too, the lease still ends with this invocation.
            with suppress(OnceError):
                self._write(ATTEMPTING, self.data, lease_until=self._ledger.now())

    def _write(self, state: str, data: Mapping[str, Any], *, lease_until: Any = None) -> None:
        now = self._ledger.now()
        if self.entry is None:
            # Named by the contact it is about, so the contact's export and erasure find it.
            contact_id = self._labels.get("contact_id")
            entry = Entry(
                _ledger_key(self.message_id), state, dict(data), 1, now + KEEP, lease_until, contact_id
            )
        else:
            entry = replace(self.entry.next(state, data, lease_until=lease_until), expires_at=now + KEEP)
        if not self._ledger.table.write(entry, now):
            raise InProgress("another invocation changed this send first")
        self.entry = entry


class SendLedger:
    """The ledger of a journey's sends, and the step-level record (a step that sent on one
    channel never sends on another), on one table with the same bounded leases."""

    def __init__(self, table: OnceTable, clock: Clock | None = None) -> None:
        self.table = table
        self._clock = clock or SystemClock()
        self.leases = Leases()
        # Repeatable: running a step again sends nothing twice (the channel entries answer).
        self.steps = Once(
            table, prefix=STEP_PREFIX, keep=KEEP, clock=self._clock, leases=self.leases, repeatable=True
        )

    def now(self) -> Any:
        return self._clock.now()

    def register(self, context: RemainingTime | None) -> None:
        """A send in progress is taken as over once this invocation's time is up."""
        self.leases.register(context)

    def journal(self, parts: Mapping[str, str], labels: Mapping[str, str]) -> ChannelJournal:
        baton_message_id = message_id(parts)
        entry = self.table.read(_ledger_key(baton_message_id), self.now())
        return ChannelJournal(self, baton_message_id, labels, entry)

    def find(self, baton_message_id: str) -> ChannelJournal | None:
        """The send a provider event names by its Baton message id (None: not one of ours)."""
        entry = self.table.read(_ledger_key(baton_message_id), self.now())
        if entry is None:
            return None
        labels = {k: str(v) for k, v in entry.data.items() if isinstance(v, str)}
        return ChannelJournal(self, baton_message_id, labels, entry)
