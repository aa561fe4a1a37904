"""A journey's figures as CloudWatch metrics, for the dashboard and the alarm the CDK app builds
per journey (`infra/constructs/dashboards.py`).

Namespace `Baton/Journeys`; each measure is one metric name, published under a few bounded
dimension sets (the journey, and the journey with one of its steps, channels or reasons: never
a contact, an address or a message id, so the number of metrics grows with the catalog, not
with the audience):

| metric                                          | dimension sets                                     |
|-------------------------------------------------|----------------------------------------------------|
| Entered, Completed, ExitedEarly, Converted,     | journey                                            |
| Unsubscribed, JourneyFailed                     |                                                    |
| Sent, Delivered, Bounced, Complained, Failed    | journey; journey + step; journey + channel         |
| Skipped, Held                                   | journey; journey + reason (the gate's `Reason`)    |

Written as Embedded Metric Format lines on stdout (the Lambda's log: no call, no cost on the
send path beyond the log line). One line per dimension set holds every value of an invocation
(at most 100 values a line, EMF's limit), so a batch of a hundred sends is a few lines, not a
hundred. Off where Powertools' metrics are off (`POWERTOOLS_METRICS_DISABLED`: local mode,
tests), like every other Baton metric.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Final

from aws_lambda_powertools.metrics.functions import is_metrics_disabled

NAMESPACE: Final = "Baton/Journeys"
# EMF takes at most 100 values of one metric in one document.
MAX_VALUES: Final = 100


class Measure(StrEnum):
    ENTERED = "Entered"
    COMPLETED = "Completed"
    EXITED_EARLY = "ExitedEarly"
    CONVERTED = "Converted"
    UNSUBSCRIBED = "Unsubscribed"
    JOURNEY_FAILED = "JourneyFailed"
    SENT = "Sent"
    DELIVERED = "Delivered"
    BOUNCED = "Bounced"
    COMPLAINED = "Complained"
    FAILED = "Failed"
    SKIPPED = "Skipped"
    HELD = "Held"


class Dimension(StrEnum):
    JOURNEY = "journey"
    STEP = "step"
    CHANNEL = "channel"
    REASON = "reason"


# What each measure is published under besides the journey alone.
_MESSAGE_SETS: Final = ((Dimension.STEP,), (Dimension.CHANNEL,))
_REASON_SETS: Final = ((Dimension.REASON,),)
DIMENSION_SETS: Final[Mapping[Measure, tuple[tuple[Dimension, ...], ...]]] = {
    Measure.SENT: _MESSAGE_SETS,
    Measure.DELIVERED: _MESSAGE_SETS,
    Measure.BOUNCED: _MESSAGE_SETS,
    Measure.COMPLAINED: _MESSAGE_SETS,
    Measure.FAILED: _MESSAGE_SETS,
    Measure.SKIPPED: _REASON_SETS,
    Measure.HELD: _REASON_SETS,
}

_Key = tuple[Measure, tuple[tuple[str, str], ...]]


class JourneyMetrics:
    """Collects an invocation's journey measures and writes them as EMF lines on `flush`."""

    def __init__(self, write: Callable[[str], None] = print, now_ms: Callable[[], int] | None = None) -> None:
        self._write = write
        self._now_ms = now_ms or (lambda: int(time.time() * 1000))
        self._values: dict[_Key, list[float]] = defaultdict(list)

    def add(
        self,
        measure: Measure,
        journey: str,
        *,
        step: str | None = None,
        channel: str | None = None,
        reason: str | None = None,
        count: float = 1,
    ) -> None:
        """One occurrence (or `count`) of `measure` in `journey`, under the journey alone and
        under each dimension set of the measure whose value is given."""
        given = {Dimension.STEP: step, Dimension.CHANNEL: channel, Dimension.REASON: reason}
        self._values[(measure, ((Dimension.JOURNEY, journey),))].append(count)
        for extra in DIMENSION_SETS.get(measure, ()):
            values = [given[dimension] for dimension in extra]
            if all(values):
                dims = ((Dimension.JOURNEY.value, journey), *zip(extra, values, strict=True))
                self._values[(measure, tuple((str(name), str(value)) for name, value in dims))].append(count)

    def flush(self) -> None:
        """Write what was added, one EMF document per metric and dimension set (split at 100
        values), and forget it. Nothing is written while metrics are disabled."""
        values, self._values = self._values, defaultdict(list)
        if is_metrics_disabled():
            return
        timestamp = self._now_ms()
        for (measure, dims), counts in sorted(values.items()):
            for start in range(0, len(counts), MAX_VALUES):
                document = {
                    "_aws": {
                        "Timestamp": timestamp,
                        "CloudWatchMetrics": [
                            {
                                "Namespace": NAMESPACE,
                                "Dimensions": [[name for name, _ in dims]],
                                "Metrics": [{"Name": measure.value, "Unit": "Count"}],
                            }
                        ],
                    },
                    **dict(dims),
                    measure.value: counts[start : start + MAX_VALUES],
                }
                self._write(json.dumps(document, separators=(",", ":")))


# The figures' measures (`baton.figures.projection`) published as metrics; the rest (opens,
# clicks, hand-off times, assignments) are read from the figures table only.
_FROM_FIGURES: Final = {
    "entered": Measure.ENTERED,
    "completed": Measure.COMPLETED,
    "exited": Measure.EXITED_EARLY,
    "converted": Measure.CONVERTED,
    "unsubscribed": Measure.UNSUBSCRIBED,
    "errors": Measure.JOURNEY_FAILED,
    "sent": Measure.SENT,
    "delivered": Measure.DELIVERED,
    "bounced": Measure.BOUNCED,
    "complained": Measure.COMPLAINED,
    "failed": Measure.FAILED,
}


def from_figure(measure: str) -> tuple[Measure, str | None] | None:
    """The metric (and reason) a figures measure is published as, or None: `skipped.<reason>`
    is Skipped by reason, `held.<reason>` Held by reason."""
    kind, _, reason = measure.partition(".")
    if kind == "skipped" and reason:
        return Measure.SKIPPED, reason
    if kind == "held" and reason:
        return Measure.HELD, reason
    found = _FROM_FIGURES.get(measure)
    return (found, None) if found is not None else None
