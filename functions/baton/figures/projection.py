"""What one timeline event adds to the figures: a pure function, so the figures equal what the
timelines show by construction (every counted event is a timeline entry, counted once when it
is written).

| kind                         | counter (measure)                 | where                       |
|------------------------------|-----------------------------------|-----------------------------|
| journey.started              | entered                           | journey, `-` step           |
| journey.exited               | exited (exit_on ended it early)   | journey, `-` step           |
| journey.converted            | converted                         | journey, `-` step           |
| journey.not_admitted         | not_admitted (closed for review)  | journey, `-` step           |
| journey.split                | assigned (the variant it chose)   | journey, the split's step   |
| journey.completed            | completed                         | journey, its last step      |
| journey.ended                | ended.skipped / ended.failed      | journey, step               |
| journey.failed               | errors (a task error of Baton's)  | journey, step               |
| message.sent                 | sent                              | step, channel, template     |
| message.refused              | skipped.<gate reason>             | step, channel               |
| message.held                 | held.<reason>                     | step, channel               |
| message.failed               | failed                            | step, channel               |
| message.unknown              | unknown (the provider may have it)| step, channel               |
| delivery.event               | delivered / bounced / complained /| step, channel (from the     |
|                              | undelivered / opened / clicked    | provider's tags)            |
| delivery.timed_out           | no_receipt                        | step, channel               |
| consent.changed (revoked)    | unsubscribed                      | the last message received   |
|                              |                                   | on that channel             |
| handoff.created / escalated  | created / escalated               | queue                       |
| handoff.completed            | completed (+ late), ttc.<bucket>  | queue                       |
| handoff.timed_out            | timed_out                         | queue                       |

A message Baton sends on its own (a confirmation, a HELP or STOP reply: no journey) carries its
inventory id in a `builtin` detail key instead (`builtin/<name>`): its message.* and
delivery.event entries count under that id's own partition (`builtin#<name>`, `-` step), so the
inventory reads its volume like a journey step's.

A `variant` string in a journey.* or message.* detail (the reserved `holdout` marks the control
group) is kept with every counter of that event. Counters carry journey, step, channel,
template and variant names only: never a contact, an address or a text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

from baton.timeline.models import TimelineEvent

NONE: Final = "-"  # no step (a journey-level counter), no channel, no variant
HOLDOUT: Final = "holdout"  # the reserved variant of the contacts a journey sends nothing
OTHER: Final = "other"  # a reason or status outside the known vocabulary
JOURNEY_PREFIX: Final = "journey#"
QUEUE_PREFIX: Final = "queue#"
BUILTIN_PREFIX: Final = "builtin#"
# A built-in message's inventory id is `builtin/<name>`; its figures live under `builtin#<name>`.
BUILTIN_ID_PREFIX: Final = "builtin/"

# Time to complete a hand-off, as counts in fixed buckets (upper bounds in seconds; the last
# bucket is everything longer), so percentiles come from counts (`percentile`).
TTC_BUCKETS: Final = (300, 900, 1800, 3600, 7200, 14400, 28800, 86400, 172800, 259200, 604800)
TTC_OVER: Final = "over"
TTC_PREFIX: Final = "ttc."

RECEIPT_MEASURES: Final = {
    "delivered": "delivered",
    "bounced": "bounced",
    "complained": "complained",
    "failed": "undelivered",
    "opened": "opened",
    "clicked": "clicked",
}
_NAME_MAX = 64  # journey, step, template, variant and reason names are short ids


@dataclass(frozen=True, slots=True, order=True)
class FigureKey:
    """One item of the figures table: pk `journey#<id>` / `queue#<queue>`, sk `<day>#<step>` /
    `<day>`."""

    pk: str
    sk: str

    @classmethod
    def journey(cls, journey: str, day: date, step: str = NONE) -> FigureKey:
        return cls(f"{JOURNEY_PREFIX}{journey}", f"{day.isoformat()}#{step}")

    @classmethod
    def queue(cls, queue: str, day: date) -> FigureKey:
        return cls(f"{QUEUE_PREFIX}{queue}", day.isoformat())

    @classmethod
    def builtin(cls, name: str, day: date) -> FigureKey:
        return cls(f"{BUILTIN_PREFIX}{name}", f"{day.isoformat()}#{NONE}")


@dataclass(frozen=True, slots=True)
class Increment:
    key: FigureKey
    measure: str
    channel: str = NONE
    variant: str = NONE
    template: str | None = None  # the step's template, kept beside its counters
    amount: int = 1

    @property
    def counter(self) -> str:
        """The attribute that holds the count: `<measure>|<channel>|<variant>`."""
        return counter_name(self.measure, self.channel, self.variant)


def counter_name(measure: str, channel: str = NONE, variant: str = NONE) -> str:
    return f"{measure}|{channel}|{variant}"


def split_counter(name: str) -> tuple[str, str, str] | None:
    parts = name.split("|")
    return (parts[0], parts[1], parts[2]) if len(parts) == 3 else None


@dataclass(frozen=True, slots=True)
class _About:
    journey: str
    step: str
    channel: str
    variant: str
    template: str | None


def project(event: TimelineEvent, last_received: TimelineEvent | None = None) -> list[Increment]:
    """The counters `event` adds. `last_received`: for a revoked consent, the contact's last
    `message.sent` on that channel before it (the unsubscribe is counted against that send);
    only that path reads the timeline, never a send."""
    detail = event.detail
    day = event.at.date()
    kind = event.kind
    if kind.startswith("handoff."):
        return _handoff(kind, detail, day, event.at)
    if kind == "consent.changed":
        return _unsubscribed(detail, day, last_received)
    about = _about(detail)
    if about is None:
        return _builtin(kind, detail, day)
    measure = _measure(kind, detail)
    if measure is None:
        return []
    journey_level = kind in ("journey.started", "journey.exited", "journey.converted", "journey.not_admitted")
    step = NONE if journey_level else about.step
    channel = about.channel if kind.startswith(("message.", "delivery.")) else NONE
    template = about.template if kind.startswith("message.") else None
    return [Increment(FigureKey.journey(about.journey, day, step), measure, channel, about.variant, template)]


def measure_of(kind: str, detail: Mapping[str, object]) -> str | None:
    """The counter an event of `kind` adds (None: it adds none)."""
    return _measure(kind, detail)


def _measure(kind: str, detail: Mapping[str, object]) -> str | None:
    match kind:
        case "journey.started":
            return "entered"
        case "journey.exited":
            return "exited"
        case "journey.converted":
            return "converted"
        case "journey.not_admitted":
            return "not_admitted"
        case "journey.completed":
            return "completed"
        case "journey.failed":
            return "errors"
        case "journey.split":
            # Once per run: the split's own entry (a later branch's `journey.step` carries the
            # run's variant too, and counting it would count the contact again).
            return "assigned" if _name(detail.get("variant")) else None
        case "journey.ended":
            return "ended.failed" if detail.get("outcome") == "failed" else "ended.skipped"
        case "message.sent":
            return "sent"
        case "message.refused":
            return f"skipped.{_reason(detail)}"
        case "message.held":
            return f"held.{_reason(detail)}"
        case "message.failed":
            return "failed"
        case "message.unknown":
            return "unknown"
        case "delivery.event":
            return RECEIPT_MEASURES.get(str(detail.get("status")), OTHER)
        case "delivery.timed_out":
            return "no_receipt"
    return None


def _builtin(kind: str, detail: Mapping[str, object], day: date) -> list[Increment]:
    """A message Baton sent on its own, counted by its inventory id (`builtin/<name>`)."""
    name = builtin_name(detail.get("builtin"))
    if name is None or not kind.startswith(("message.", "delivery.")):
        return []
    measure = _measure(kind, detail)
    if measure is None:
        return []
    channel = _name(detail.get("channel")) or NONE
    return [Increment(FigureKey.builtin(name, day), measure, channel)]


def builtin_name(value: object) -> str | None:
    """The `<name>` of an inventory id `builtin/<name>` (None for anything else)."""
    if not isinstance(value, str) or not value.startswith(BUILTIN_ID_PREFIX):
        return None
    return _name(value.removeprefix(BUILTIN_ID_PREFIX))


def _about(detail: Mapping[str, object]) -> _About | None:
    journey = _name(detail.get("journey"))
    if journey is None:
        return None  # not a journey's (a sign-up confirmation, a HELP reply): no journey figures
    return _About(
        journey=journey,
        step=_name(detail.get("step")) or NONE,
        channel=_name(detail.get("channel")) or NONE,
        variant=_name(detail.get("variant")) or NONE,
        template=_name(detail.get("template")),
    )


def _unsubscribed(
    detail: Mapping[str, object], day: date, last_received: TimelineEvent | None
) -> list[Increment]:
    if not is_unsubscribe(detail) or last_received is None:
        return []
    about = _about(last_received.detail)
    if about is None:
        return []
    return [
        Increment(
            FigureKey.journey(about.journey, day, about.step),
            "unsubscribed",
            about.channel,
            about.variant,
            about.template,
        )
    ]


def is_unsubscribe(detail: Mapping[str, object]) -> bool:
    """A granted consent withdrawn by the person (a link, a keyword, the preference page, an
    agent's note); a complaint's revocation is counted as the complaint it is."""
    return (
        detail.get("status") == "revoked"
        and detail.get("previous_status") == "granted"
        and detail.get("source") != "complaint"
    )


def _handoff(kind: str, detail: Mapping[str, object], day: date, at: datetime) -> list[Increment]:
    queue = _name(detail.get("queue"))
    if queue is None:
        return []
    key = FigureKey.queue(queue, day)
    match kind:
        case "handoff.created":
            return [Increment(key, "created")]
        case "handoff.escalated":
            return [Increment(key, "escalated")]
        case "handoff.timed_out":
            return [Increment(key, "timed_out")]
        case "handoff.completed":
            increments = [Increment(key, "completed")]
            created = _moment(detail.get("created_at"))
            if created is not None:
                increments.append(Increment(key, ttc_bucket((at - created).total_seconds())))
            due = _moment(detail.get("due_at"))
            if due is not None and at > due:
                increments.append(Increment(key, "late"))
            return increments
    return []


def ttc_bucket(seconds: float) -> str:
    """The bucket counter of a time to complete: `ttc.<upper bound s>`, or `ttc.over`."""
    for bound in TTC_BUCKETS:
        if seconds <= bound:
            return f"{TTC_PREFIX}{bound}"
    return f"{TTC_PREFIX}{TTC_OVER}"


def percentile(buckets: Mapping[str, int], fraction: float) -> int | None:
    """The upper bound (seconds) of the bucket holding the `fraction` quantile of the counts:
    the time within which that share of hand-offs completed (None: no counts, or beyond the
    last bound)."""
    total = sum(buckets.values())
    if total == 0:
        return None
    needed = fraction * total
    running = 0
    for bound in TTC_BUCKETS:
        running += buckets.get(f"{TTC_PREFIX}{bound}", 0)
        if running >= needed:
            return bound
    return None


def _reason(detail: Mapping[str, object]) -> str:
    return _name(detail.get("reason")) or OTHER


def _name(value: object) -> str | None:
    if not isinstance(value, str) or not value or len(value) > _NAME_MAX:
        return None
    # The separators of the keys and counter names never come from a name.
    return value if "|" not in value and "#" not in value else value.replace("|", "_").replace("#", "_")


def _moment(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
