"""Keeps the figures as the timeline is written: `TimelineService` hands every event it wrote
to `observed`, which projects it (`baton.figures.projection`) and adds the counters to a buffer;
`flush` writes the buffer, one UpdateItem per item however many events added to it (a journey's
last send records `message.sent` and `journey.completed` on the same item: one write).

Every handler flushes when its invocation ends (`baton.bootstrap.flushes_figures`), and a
campaign batch once per batch task, before it keeps its progress, pauses or hands on: a
campaign message adds no write of its own beyond its share of the batch's few items.

Counting never slows or fails a send: an error is caught, logged without personal data (the
item key and its counters: journey, step, channel and variant names), counted as the
`FiguresNotRecorded` metric, and the write is tried once more. A count that still fails is
lost from the figures (the timeline keeps the event); its log line names the item and the
counters, so an operator can add them again with UpdateItem ADD. Counts buffered when an
invocation dies without flushing (a Lambda timeout) are lost the same way, without a log.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import date
from typing import Final

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from baton.figures.cloudwatch import JourneyMetrics, from_figure
from baton.figures.projection import (
    JOURNEY_PREFIX,
    NONE,
    FigureKey,
    Increment,
    builtin_name,
    is_unsubscribe,
    project,
)
from baton.figures.repository import Counts, FiguresRepository
from baton.timeline.models import TimelineEvent

logger = Logger(child=True)

METRIC_NOT_RECORDED: Final = "FiguresNotRecorded"
METRIC_NOT_PROJECTED: Final = "FiguresNotProjected"
# How far back an unsubscribe looks for the message it answers (newest first, one page).
ATTRIBUTION_EVENTS: Final = 50
SENT: Final = "message.sent"


class FiguresRecorder:
    def __init__(
        self,
        repository: FiguresRepository,
        metrics: Metrics,
        recent: Callable[[str, int], Sequence[TimelineEvent]] | None = None,
        journey_metrics: JourneyMetrics | None = None,
    ) -> None:
        """`recent(contact_id, limit)`: the contact's newest timeline events, read only for an
        unsubscribe (to find the send it answers)."""
        self._repository = repository
        self._metrics = metrics
        self._recent = recent
        # The same counts as CloudWatch metrics, for each journey's dashboard and alarm.
        self._journey_metrics = journey_metrics or JourneyMetrics()
        self._pending: dict[FigureKey, Counts] = {}
        # One process serves many invocations at once in the local stack: one buffer, locked.
        self._lock = threading.Lock()

    def observed(self, event: TimelineEvent) -> None:
        """The timeline holds `event` now: buffer what it adds. Never raises."""
        try:
            increments = project(event, self._last_received(event))
        except Exception:
            logger.exception("Figures not projected", extra={"kind": event.kind})
            self._count(METRIC_NOT_PROJECTED)
            return
        if not increments:
            return
        with self._lock:
            for increment in increments:
                counts = self._pending.setdefault(increment.key, Counts())
                counts.add(increment.counter, increment.amount, increment.template)
                self._publish(increment)

    def counted(self, builtin_id: str, measure: str, channel: str, day: date) -> None:
        """A built-in message with no contact timeline (a queue's hand-off notice, the review
        digest): count it under its inventory id as `observed` counts the rest. Never raises."""
        name = builtin_name(builtin_id)
        if name is None:
            logger.warning("Figures not projected", extra={"builtin": builtin_id})
            self._count(METRIC_NOT_PROJECTED)
            return
        increment = Increment(FigureKey.builtin(name, day), measure, channel)
        with self._lock:
            self._pending.setdefault(increment.key, Counts()).add(increment.counter, increment.amount, None)

    def flush(self) -> int:
        """Write what is buffered, one write per item; returns how many items were written.
        Never raises: a write that fails twice is logged with its key and counters."""
        with self._lock:
            pending, self._pending = self._pending, {}
            self._journey_metrics.flush()
        written = 0
        for key, counts in sorted(pending.items()):
            if self._write(key, counts):
                written += 1
        return written

    def _publish(self, increment: Increment) -> None:
        """A journey's increment as its metric (`baton.figures.cloudwatch`)."""
        if not increment.key.pk.startswith(JOURNEY_PREFIX):
            return
        published = from_figure(increment.measure)
        if published is None:
            return
        measure, reason = published
        step = increment.key.sk.split("#", 1)[1]
        self._journey_metrics.add(
            measure,
            increment.key.pk.removeprefix(JOURNEY_PREFIX),
            step=None if step == NONE else step,
            channel=None if increment.channel == NONE else increment.channel,
            reason=reason,
            count=increment.amount,
        )

    @property
    def pending(self) -> int:
        return len(self._pending)

    def _write(self, key: FigureKey, counts: Counts) -> bool:
        for attempt in (1, 2):
            try:
                self._repository.add(key, counts)
                return True
            except Exception as exc:
                self._count(METRIC_NOT_RECORDED)
                extra: dict[str, object] = {
                    "pk": key.pk,
                    "sk": key.sk,
                    "attempt": attempt,
                    "error_type": type(exc).__name__,
                }
                if attempt == 2:
                    extra["counters"] = dict(counts.counters)  # what to add again by hand
                logger.warning("Figures not recorded", extra=extra)
        return False

    def _last_received(self, event: TimelineEvent) -> TimelineEvent | None:
        if event.kind != "consent.changed" or self._recent is None or not is_unsubscribe(event.detail):
            return None
        channel = event.detail.get("channel")
        for earlier in self._recent(event.contact_id, ATTRIBUTION_EVENTS):
            if earlier.kind == SENT and earlier.detail.get("channel") == channel and earlier.at <= event.at:
                return earlier
        return None

    def _count(self, name: str) -> None:
        try:
            self._metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
        except Exception:  # a metric must not fail what it counts
            logger.warning("Figures metric not added", extra={"metric": name})
