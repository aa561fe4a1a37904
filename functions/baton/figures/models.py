"""What the figures routes answer: a journey's funnel over a span of days, a queue's hand-offs."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Counts = dict[str, int]
TEST: Literal["two-proportion z-test"] = "two-proportion z-test"


class _Answer(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True, serialize_by_alias=True)


class StepFigures(_Answer):
    step: str
    template: str | None = None
    totals: Counts
    channels: dict[str, Counts] = Field(default_factory=dict)


class DayFigures(_Answer):
    day: date
    totals: Counts


class VariantFigures(_Answer):
    """One variant's conversion: against the holdout (the control) when the journey has one,
    else against the other variants taken together (with two variants: one against the other)."""

    variant: str
    entered: int
    converted: int
    conversion_rate: float | None
    lift: float | None = None  # (rate - holdout rate) / holdout rate; only against a holdout
    p_value: float | None = None  # two-sided, against `compared_with`
    test: Literal["two-proportion z-test"] | None = None
    compared_with: Literal["holdout", "other variants"] | None = None


class JourneyFigures(_Answer):
    journey: str
    from_day: date = Field(alias="from")
    to_day: date = Field(alias="to")
    totals: Counts
    rates: dict[str, float | None]
    steps: list[StepFigures]
    channels: dict[str, Counts]
    days: list[DayFigures]
    variants: list[VariantFigures]
    holdout: VariantFigures | None = None


class QueueFigures(_Answer):
    queue: str
    from_day: date = Field(alias="from")
    to_day: date = Field(alias="to")
    created: int
    completed: int
    late: int
    escalated: int
    timed_out: int
    completed_in_time_rate: float | None
    time_to_complete_p50_s: int | None
    time_to_complete_p90_s: int | None
    time_to_complete_buckets: Counts
