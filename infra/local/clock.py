"""The local stack's notion of now: real UTC today; the journeys' virtual clock replaces it."""

from __future__ import annotations

from datetime import UTC, datetime


class LocalClock:
    """What `GET /_local/clock` reports and what stamps outbox messages. One small class, so a
    virtual clock (time travel for waits) can take its place without touching the server."""

    def now(self) -> datetime:
        return datetime.now(UTC)
