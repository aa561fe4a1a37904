"""Conversions: a journey's goal event (`goal: {event, within}`) that arrives for a contact within
`within` of an entry into that journey is recorded as `journey.converted`, once per entry.

An entry is a run as it began: a run handed on to new executions (R-REL-1) is one entry, entered
when its first execution started. The contact's runs of the journey are one Query (the runs
table's key is the contact, then `<journey>#`), so no index is needed. Held-out contacts have a
run too (entered, sent nothing): their conversions are the control group's.

Once per entry: the record is written under a key of (journey, the entry's first execution) on
the idempotency table, whose conditional write lets one caller through, so a repeated goal event,
another goal event later, or two at the same moment record nothing more. Nothing personal is
kept there: the key is a hash of the journey and execution names, the answer the event's key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Final

from aws_lambda_powertools import Logger

from baton.clock import Clock, to_iso
from baton.data.once import InProgress, Once
from baton.journeys.durations import parse_duration
from baton.journeys.models import Journey
from baton.journeys.split import variant_of
from baton.timeline.service import TimelineService
from baton.triggers.models import EventIn, Run
from baton.triggers.runs import RunRepository

logger = Logger(child=True)

JOURNEY_CONVERTED: Final = "journey.converted"
GOAL_PREFIX: Final = "baton.goal"


@dataclass(frozen=True, slots=True)
class Entry:
    """One entry into a journey: its first execution's name, when it began, the run's variant."""

    execution_name: str
    entered_at: datetime
    variant: str | None


def entries(runs: Sequence[Run]) -> list[Entry]:
    """The contact's entries into one journey, from its runs (continuations joined to the run
    they continue; the variant from whichever of them kept it)."""
    by_name = {run.execution_name: run for run in runs}

    def first(run: Run) -> Run:
        seen = {run.execution_name}
        while run.continues is not None and run.continues in by_name and run.continues not in seen:
            run = by_name[run.continues]
            seen.add(run.execution_name)
        return run

    chains: dict[str, list[Run]] = {}
    for run in runs:
        chains.setdefault(first(run).execution_name, []).append(run)
    return [
        Entry(name, by_name[name].started_at, next((run.variant for run in chain if run.variant), None))
        for name, chain in chains.items()
    ]


@dataclass(frozen=True)
class Conversions:
    runs: RunRepository
    timeline: TimelineService
    once: Once  # prefix GOAL_PREFIX, kept longer than any goal's `within`
    clock: Clock

    def record(self, event: EventIn, journeys: Sequence[Journey]) -> list[str]:
        """Record the conversions `event` makes in `journeys` (those whose goal is its type);
        the journeys converted by this call."""
        converted: list[str] = []
        now = self.clock.now()
        for journey in journeys:
            assert journey.goal is not None
            window = parse_duration(journey.goal.within)
            for entry in entries(self.runs.of_journey(event.contact_id, journey.journey)):
                if not entry.entered_at <= now <= entry.entered_at + window:
                    continue
                key = {"journey": journey.journey, "execution": entry.execution_name}
                try:
                    answer = self.once.run(key, partial(self._convert, event, journey, entry))
                except InProgress:
                    # The same entry is converting in another invocation right now: it records it.
                    logger.info("Conversion in progress elsewhere", extra={"journey": journey.journey})
                    continue
                if answer.get("event_id") == event.idempotency_key:
                    converted.append(journey.journey)
        return converted

    def _convert(self, event: EventIn, journey: Journey, entry: Entry) -> dict[str, object]:
        assert journey.goal is not None
        detail: dict[str, object] = {
            "journey": journey.journey,
            "execution": entry.execution_name,
            "event": journey.goal.event,
            "event_id": event.idempotency_key,
            "entered_at": to_iso(entry.entered_at),
        }
        variant = entry.variant
        if variant is None and journey.splits:
            # The split may run before its run is stored (the execution starts first), so the
            # run may not have kept it: the assignment is a pure function of journey and
            # contact, the same as the split's (counted as assigned, from the entry on).
            split = journey.splits[0].split
            assert split is not None
            variant = variant_of(journey.journey, event.contact_id, split.variants).name
        if variant is not None:
            detail["variant"] = variant
        self.timeline.record(event.contact_id, JOURNEY_CONVERTED, detail)
        return {"event_id": event.idempotency_key}
