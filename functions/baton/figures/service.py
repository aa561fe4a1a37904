"""Reading the figures: a journey's counts over [from, to] by step, channel, variant and day,
with rates and, per variant, conversion against the holdout; a queue's hand-offs with the time
to complete at p50 and p90 (from the bucket counts)."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Final

from baton.figures.exceptions import InvalidSpan
from baton.figures.models import (
    TEST,
    Counts,
    DayFigures,
    JourneyFigures,
    QueueFigures,
    StepFigures,
    VariantFigures,
)
from baton.figures.projection import (
    HOLDOUT,
    JOURNEY_PREFIX,
    NONE,
    QUEUE_PREFIX,
    TTC_PREFIX,
    percentile,
    split_counter,
)
from baton.figures.repository import FiguresRepository

DEFAULT_DAYS: Final = 30  # without `from`: the last 30 days, today included
MAX_DAYS: Final = 400

# Rates: (name, numerator, denominator), both totals of the span.
RATES: tuple[tuple[str, str, str], ...] = (
    ("delivered", "delivered", "sent"),
    ("bounced", "bounced", "sent"),
    ("complained", "complained", "sent"),
    ("undelivered", "undelivered", "sent"),
    ("unsubscribed", "unsubscribed", "sent"),
    ("opened", "opened", "delivered"),
    ("clicked", "clicked", "delivered"),
    ("completed", "completed", "entered"),
    ("exited", "exited", "entered"),
    ("converted", "converted", "entered"),
)


def two_proportion_z_test(x1: int, n1: int, x2: int, n2: int) -> float | None:
    """Two-sided p-value of the pooled two-proportion z-test of x1/n1 against x2/n2 (None when a
    group is empty or nothing differs to test)."""
    if n1 <= 0 or n2 <= 0:
        return None
    pooled = (x1 + x2) / (n1 + n2)
    spread = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if spread <= 0:
        return None
    z = (x1 / n1 - x2 / n2) / math.sqrt(spread)
    return math.erfc(abs(z) / math.sqrt(2))


def _rate(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


class FiguresService:
    def __init__(self, repository: FiguresRepository) -> None:
        self._repository = repository

    def journey(
        self, journey_id: str, first: date, last: date, step_order: Sequence[str] = ()
    ) -> JourneyFigures:
        """`step_order`: the journey's steps as written, so the funnel reads top to bottom."""
        items = self._repository.items(
            f"{JOURNEY_PREFIX}{journey_id}", first.isoformat(), f"{last.isoformat()}#~"
        )
        totals: Counts = defaultdict(int)
        channels: dict[str, Counts] = defaultdict(lambda: defaultdict(int))
        by_variant: dict[str, Counts] = defaultdict(lambda: defaultdict(int))
        by_day: dict[date, Counts] = defaultdict(lambda: defaultdict(int))
        steps: dict[str, _StepSum] = {}
        for item in items:
            day_text, _, step = item.key.sk.partition("#")
            day = date.fromisoformat(day_text)
            summed = steps.setdefault(step, _StepSum())
            summed.template = item.template or summed.template
            for counter, amount in item.counters.items():
                parts = split_counter(counter)
                if parts is None:
                    continue
                measure, channel, variant = parts
                totals[measure] += amount
                by_day[day][measure] += amount
                by_variant[variant][measure] += amount
                summed.totals[measure] += amount
                if channel != NONE:
                    channels[channel][measure] += amount
                    summed.channels[channel][measure] += amount
        order = {step: index for index, step in enumerate((NONE, *step_order))}
        variants, holdout = _variants(by_variant)
        return JourneyFigures.model_validate(
            {
                "journey": journey_id,
                "from": first,
                "to": last,
                "totals": dict(totals),
                "rates": {name: _rate(totals[top], totals[bottom]) for name, top, bottom in RATES},
                "steps": [
                    StepFigures(
                        step=step,
                        template=summed.template,
                        totals=dict(summed.totals),
                        channels={channel: dict(counts) for channel, counts in summed.channels.items()},
                    )
                    for step, summed in sorted(
                        steps.items(), key=lambda pair: (order.get(pair[0], len(order)), pair[0])
                    )
                ],
                "channels": {channel: dict(counts) for channel, counts in sorted(channels.items())},
                "days": [DayFigures(day=day, totals=dict(counts)) for day, counts in sorted(by_day.items())],
                "variants": variants,
                "holdout": holdout,
            }
        )

    def queue(self, queue: str, first: date, last: date) -> QueueFigures:
        items = self._repository.items(f"{QUEUE_PREFIX}{queue}", first.isoformat(), last.isoformat())
        totals: Counts = defaultdict(int)
        for item in items:
            for counter, amount in item.counters.items():
                parts = split_counter(counter)
                if parts is not None:
                    totals[parts[0]] += amount
        buckets = {name: amount for name, amount in totals.items() if name.startswith(TTC_PREFIX)}
        ended = totals["completed"] + totals["timed_out"]
        return QueueFigures.model_validate(
            {
                "queue": queue,
                "from": first,
                "to": last,
                "created": totals["created"],
                "completed": totals["completed"],
                "late": totals["late"],
                "escalated": totals["escalated"],
                "timed_out": totals["timed_out"],
                "completed_in_time_rate": _rate(totals["completed"] - totals["late"], ended),
                "time_to_complete_p50_s": percentile(buckets, 0.5),
                "time_to_complete_p90_s": percentile(buckets, 0.9),
                "time_to_complete_buckets": buckets,
            }
        )


class _StepSum:
    def __init__(self) -> None:
        self.template: str | None = None
        self.totals: Counts = defaultdict(int)
        self.channels: dict[str, Counts] = defaultdict(lambda: defaultdict(int))


def _population(counts: Counts) -> int:
    """A variant's contacts: those that entered with it, else those a split assigned to it."""
    return counts.get("entered", 0) or counts.get("assigned", 0)


def _variants(by_variant: dict[str, Counts]) -> tuple[list[VariantFigures], VariantFigures | None]:
    named = {variant: counts for variant, counts in by_variant.items() if variant != NONE}
    control = named.pop(HOLDOUT, None)
    n0 = _population(control) if control is not None else 0
    x0 = control.get("converted", 0) if control is not None else 0
    holdout = (
        VariantFigures(variant=HOLDOUT, entered=n0, converted=x0, conversion_rate=_rate(x0, n0))
        if control is not None
        else None
    )
    populations = {variant: (_population(c), c.get("converted", 0)) for variant, c in named.items()}
    all_n = sum(n for n, _ in populations.values())
    all_x = sum(x for _, x in populations.values())
    variants = []
    for variant, (n, x) in sorted(populations.items()):
        rate = _rate(x, n)
        if control is not None:
            control_rate = _rate(x0, n0)
            lift = (rate - control_rate) / control_rate if rate is not None and control_rate else None
            p_value, against = two_proportion_z_test(x, n, x0, n0), "holdout"
        elif len(populations) > 1:
            # No control group: a variant against the rest of the split, so an A/B test without a
            # holdout still says whether the difference is more than chance.
            lift, p_value, against = None, two_proportion_z_test(x, n, all_x - x, all_n - n), "other variants"
        else:
            lift, p_value, against = None, None, None
        variants.append(
            VariantFigures(
                variant=variant,
                entered=n,
                converted=x,
                conversion_rate=rate,
                lift=lift,
                p_value=p_value,
                test=TEST if against is not None else None,
                compared_with=against,
            )
        )
    return variants, holdout


def span(first: str | None, last: str | None, today: date) -> tuple[date, date]:
    """The days [from, to] a request names (`YYYY-MM-DD`, UTC days); by default the last 30
    days up to today. Raises InvalidSpan naming `from` or `to`: not a date, from after to, or
    more than 400 days."""
    end = _day("to", last) if last is not None else today
    start = _day("from", first) if first is not None else end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise InvalidSpan("from", f"from ({start}) is after to ({end}).")
    if (end - start).days + 1 > MAX_DAYS:
        raise InvalidSpan("to", f"The span is over {MAX_DAYS} days.")
    return start, end


def _day(field: str, text: str) -> date:
    try:
        if len(text) != 10:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidSpan(field, f"{field} is not a date (YYYY-MM-DD).") from None
