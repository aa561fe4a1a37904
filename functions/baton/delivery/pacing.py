"""Pacing per origination identity, shared by every Lambda that sends: a message takes its
units (SMS parts, emails) in a count per (identity, window) before the provider is called, so
all of Baton together never hands one identity more than its rate (R-EUM-1 for End User
Messaging, SES's maximum send rate for email, R-SES-1, Meta's throughput for a WhatsApp number).

Each window is one item whose `parts` grow by a conditional `ADD`: the write holds only while
the window has room for the whole chunk, so two senders can never fill a window past its rate
together. A message of more units than a window holds spreads over the following windows (a
2-part text on a 1-part-per-second 10DLC number takes this second and the next), and the next
message finds them taken. When no window within `max_wait` has room, nothing is sent: the send
raises `ThroughputReached` (throttled, so Step Functions retries it later with backoff, R-REL-4).
When the first room is in the next window, at most `max_wait` away, the sender waits for it
(on the injected `pause`, so tests move a fake clock instead of sleeping).

Traffic that must not take the whole rate (a campaign's, so that transactional sends never queue
behind it) reserves with a `share` below 1: its sends fill each window only up to that share of
the rate, in the same windows as everyone's, while a send of share 1 may fill the window whole.
So whatever a campaign sends, the rest of every window is free for the others. (A window that
holds a single unit, a 1-part-per-second number, cannot be split: there the share takes it all.)

A reservation is never given back: a send that then fails, or a message whose later windows
could not all be taken, keeps what it took. That only slows later sends (the windows pass within
seconds); giving back could let two sends count the same room.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from baton import aws
from baton.clock import Clock
from baton.data.items import to_value, update_if
from baton.delivery.exceptions import ProviderThrottled, ProviderUnavailable
from baton.delivery.throughput import Rate

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

THROUGHPUT_REACHED = "ThroughputReached"
PACING_UNAVAILABLE = "PacingUnavailable"
# Waiting longer than this inside a Lambda costs more than Step Functions' retry (and holds a
# concurrent execution); within it, the next window is cheaper than a retry.
MAX_WAIT = timedelta(seconds=1)
# Windows skipped, past the first one taken, while placing the rest of a long message: each
# skip means another sender took that window meanwhile; more than this means heavy contention,
# and the send is retried later instead.
MAX_SKIPPED_WINDOWS = 10
# A window's count is read only until the window ends; TTL sweeps it up this long after.
_KEEP_WINDOW = timedelta(hours=1)


class ThroughputReached(ProviderThrottled):
    """No window within `MAX_WAIT` has room for the message: the provider was not called."""

    def __init__(self, provider: str) -> None:
        super().__init__(provider, THROUGHPUT_REACHED)


class PaceLedger(ABC):
    """The shared count of units taken per (lane, window)."""

    @abstractmethod
    def take(self, lane: str, window: int, units: int, rate: Rate, expires_at: datetime) -> bool:
        """Add `units` to the window's count if it stays within `rate.capacity`; False, adding
        nothing, when the window has no room for all of them."""


class DynamoPaceLedger(PaceLedger):
    """Item pk = `<lane>#<window seconds>#<window index>`: `parts` (N) and `expires_at` (TTL)."""

    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        self._table = table_name
        self._client: DynamoDBClient = client or aws.client("dynamodb")

    def take(self, lane: str, window: int, units: int, rate: Rate, expires_at: datetime) -> bool:
        return update_if(
            self._client,
            {
                "TableName": self._table,
                # The window length is in the key: a rate changed by configuration counts afresh.
                "Key": {"pk": to_value(f"{lane}#{rate.window_seconds}#{window}")},
                "UpdateExpression": "ADD parts :units SET expires_at = if_not_exists(expires_at, :expires)",
                "ConditionExpression": "attribute_not_exists(parts) OR parts <= :room",
                "ExpressionAttributeValues": {
                    ":units": to_value(units),
                    ":room": to_value(rate.capacity - units),
                    ":expires": to_value(int(expires_at.timestamp())),
                },
            },
        )


class Pacer:
    """Reserves units per lane (`<provider>#<origination identity>`) at a `Rate`."""

    def __init__(
        self,
        ledger: PaceLedger,
        clock: Clock,
        *,
        pause: Callable[[float], None] = time.sleep,
        max_wait: timedelta = MAX_WAIT,
        share: float = 1.0,
    ) -> None:
        if not 0 < share <= 1:
            raise ValueError(f"a pacing share is above 0 and at most 1, not {share}")
        self._ledger = ledger
        self._clock = clock
        self._pause = pause
        self._max_wait = max_wait
        self._share = share

    def reserve(self, provider: str, identity: str, units: int, rate: Rate) -> None:
        """Take `units` (one message's parts, or a batch's: one write per window it spans, so a
        batch of a few windows) for `identity`, waiting for the next window when it is the first
        with room and at most `max_wait` away. Raises
        `ThroughputReached` when there is no room that soon, `ProviderUnavailable` when the
        count cannot be read or written: either way the provider must not be called."""
        if units <= 0:
            return
        rate = rate.share(self._share)
        lane = f"{provider}#{identity}"
        now = self._clock.now()
        try:
            start = self._take(lane, units, rate, now)
        except (ClientError, BotoCoreError) as exc:
            raise ProviderUnavailable(provider, PACING_UNAVAILABLE) from exc
        if start is None:
            raise ThroughputReached(provider)
        opens = _window_start(start, rate)
        if opens > now:
            self._pause((opens - now).total_seconds())

    def _take(self, lane: str, units: int, rate: Rate, now: datetime) -> int | None:
        """The window the message starts in, or None (nothing taken for it, or its rest could
        not be placed: what was taken is kept, see the module docstring)."""
        first = min(units, rate.capacity)
        start: int | None = None
        for window in range(_window(now, rate), _window(now + self._max_wait, rate) + 1):
            if self._ledger.take(lane, window, first, rate, _expires(window, rate)):
                start = window
                break
        if start is None:
            return None
        remaining, window, skipped = units - first, start + 1, 0
        while remaining:
            chunk = min(remaining, rate.capacity)
            if self._ledger.take(lane, window, chunk, rate, _expires(window, rate)):
                remaining -= chunk
            else:
                skipped += 1
                if skipped > MAX_SKIPPED_WINDOWS:
                    return None
            window += 1
        return start


def _window(moment: datetime, rate: Rate) -> int:
    return int(moment.timestamp()) // rate.window_seconds


def _window_start(window: int, rate: Rate) -> datetime:
    return datetime.fromtimestamp(window * rate.window_seconds, tz=UTC)


def _expires(window: int, rate: Rate) -> datetime:
    return _window_start(window + 1, rate) + _KEEP_WINDOW
