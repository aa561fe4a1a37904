"""`baton campaign`: start a campaign run through the private API and follow it to its end.

`baton campaign start JOURNEY --segment S [--at TIME]` answers the run id (and, with
`--follow`, follows it); `baton campaign status RUN` prints the run's figures, and on a
terminal redraws one progress line (contacts done of the audience, sent, skipped, failed,
handed on, the rate now and the estimated finish) until the run ends; elsewhere it prints a
line whenever the figures change. `pause`, `resume` and `cancel` steer it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

ENDED = frozenset({"completed", "cancelled", "failed"})
BAR_WIDTH = 30


class CampaignApi(Protocol):
    """What the command needs of an HTTP client (`infra.http_client.LocalClient` has it)."""

    def get(self, path: str, **kwargs: Any) -> Any: ...

    def post(self, path: str, **kwargs: Any) -> Any: ...


def _path(run_id: str) -> str:
    return f"/v1/campaigns/{run_id}"


def _error(answer: Any) -> str:
    try:
        error = answer.json()["error"]
    except (ValueError, KeyError, TypeError):
        return f"HTTP {answer.status}"
    fields = ", ".join(
        str(detail.get("field")) for detail in error.get("details") or [] if detail.get("field")
    )
    return f"{error.get('message', '')}{f' ({fields})' if fields else ''}"


def start(
    client: CampaignApi, journey: str, segment: str, at: str | None, out: Callable[[str], None] = print
) -> str | None:
    body: dict[str, str] = {"journey": journey, "segment": segment, **({"at": at} if at else {})}
    answer = client.post("/v1/campaigns", json_body=body)
    if answer.status != 202:
        out(f"baton campaign: not started: {_error(answer)}")
        return None
    started = answer.json()
    out(f"Campaign run {started['run_id']} ({started['path']} path): {started['status']}")
    return str(started["run_id"])


def steer(client: CampaignApi, run_id: str, action: str, out: Callable[[str], None] = print) -> int:
    answer = client.post(f"{_path(run_id)}/{action}")
    if answer.status != 200:
        out(f"baton campaign: {action}: {_error(answer)}")
        return 1
    out(line(answer.json()))
    return 0


def line(view: dict[str, Any]) -> str:
    """One line of figures: `[#####.....] 500/1,000 sent 480 skipped 15 failed 5 ...`."""
    audience = view.get("audience")
    done = sum(int(view.get(key) or 0) for key in ("sent", "skipped", "failed", "handed_on", "cancelled"))
    if audience:
        filled = min(BAR_WIDTH, round(BAR_WIDTH * done / audience))
        bar = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done:,}/{audience:,}"
    else:
        bar = "[audience not taken yet]" if audience is None else "[empty audience]"
    parts = [
        bar,
        f"sent {view.get('sent', 0):,}",
        f"skipped {view.get('skipped', 0):,}",
        f"failed {view.get('failed', 0):,}",
        f"handed on {view.get('handed_on', 0):,}",
    ]
    if view.get("cancelled"):
        parts.append(f"cancelled {view['cancelled']:,}")
    if view.get("rate_per_second"):
        parts.append(f"{view['rate_per_second']:g}/s")
    if view.get("estimated_finish"):
        parts.append(f"done by {view['estimated_finish']}")
    parts.append(str(view.get("status", "")))
    return "  ".join(parts)


def follow(
    client: CampaignApi,
    run_id: str,
    *,
    tty: bool,
    write: Callable[[str], None],
    sleep: Callable[[float], None] = time.sleep,
    interval_s: float = 1.0,
    once: bool = False,
) -> int:
    """Print the run's figures until it ends (or once); 0 when it completed, 1 otherwise."""
    last = None
    while True:
        answer = client.get(_path(run_id))
        if answer.status != 200:
            write(f"baton campaign: {_error(answer)}\n")
            return 1
        view = answer.json()
        text = line(view)
        if tty:
            write(f"\r\x1b[2K{text}")
        elif text != last:
            write(f"{text}\n")
        last = text
        if once or view.get("status") in ENDED:
            if tty:
                write("\n")
            if view.get("skipped_by_reason"):
                reasons = ", ".join(
                    f"{reason} {count:,}" for reason, count in view["skipped_by_reason"].items()
                )
                write(f"skipped by reason: {reasons}\n")
            if view.get("failed_by_reason"):
                reasons = ", ".join(
                    f"{reason} {count:,}" for reason, count in view["failed_by_reason"].items()
                )
                write(f"failed by reason: {reasons}\n")
            return 0 if view.get("status") in ("completed", "running", "paused", "scheduled") else 1
        sleep(interval_s)
