"""Test-only journey step named by journey_template.json beside this file: each call is recorded
with the virtual time it ran at, and some actions fail on purpose (Retry and Catch)."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from baton.clock import process_clock, to_iso

# Every call, oldest first (the runtime is in-process): action, contact, execution, time, event.
CALLS: list[dict[str, Any]] = []
HOLD_FOR = timedelta(hours=2)


class Unavailable(Exception):
    """A provider that may come back: the state machine retries it."""


class PermanentFailure(Exception):
    """A failure no retry fixes: the state machine catches it."""


def calls(action: str, execution: str | None = None) -> list[dict[str, Any]]:
    return [c for c in CALLS if c["action"] == action and execution in (None, c["execution"])]


def step(event: dict[str, Any], context: Any) -> dict[str, Any]:
    now = process_clock().now()
    action = event["action"]
    CALLS.append(
        {
            "action": action,
            "contact_id": event.get("contact_id"),
            "execution": event.get("execution"),
            "at": to_iso(now),
            "event": event,
            "env": {k: v for k, v in os.environ.items() if k.startswith("BATON_")},
        }
    )
    if action == "flaky" and len(calls("flaky", event.get("execution"))) <= event["fail_times"]:
        raise Unavailable("the provider is down (on purpose)")
    if action == "boom":
        raise PermanentFailure("the fixture step failed on purpose")
    if action == "hold":
        return {"until": to_iso(now + HOLD_FOR)}
    return {"ran": action, "at": to_iso(now)}
