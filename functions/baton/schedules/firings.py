"""What an EventBridge Scheduler schedule hands ScheduleFunction, as its target input says:

- `{"journey": ID, "scheduled_time": T}`: a scheduled journey's campaign run over its segment;
- `{"digest": "review", "scheduled_time": T}`: the weekly review digest to the owners.

`T` is `<aws.scheduler.scheduled-time>`, the time the schedule was due (`2027-03-08T08:00:00Z`),
the same on every retry of one firing. Anything else is an `InvalidFiring` naming the field,
whose words never quote the input.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from baton.schedules.expressions import parse_schedule_time


class InvalidFiring(ValueError):
    """The schedule's input is not one ScheduleFunction knows; `field` is the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"schedule input: {field}: {message}")
        self.field = field


class _Firing(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    scheduled_time: datetime

    @field_validator("scheduled_time", mode="before")
    @classmethod
    def _scheduler_time(cls, value: Any) -> datetime:
        try:
            return parse_schedule_time(value)
        except (TypeError, ValueError, AttributeError):
            raise ValueError("an ISO 8601 time with its zone, such as 2027-03-08T08:00:00Z") from None


class JourneyFiring(_Firing):
    journey: str


class DigestFiring(_Firing):
    digest: Literal["review"]


def parse_firing(event: Any) -> JourneyFiring | DigestFiring:
    if not isinstance(event, Mapping):
        raise InvalidFiring("event", 'a JSON object: {"journey" or "digest", "scheduled_time"}')
    if ("journey" in event) == ("digest" in event):
        raise InvalidFiring(
            "journey" if "journey" not in event else "digest", "give exactly one of journey and digest"
        )
    model: type[JourneyFiring | DigestFiring] = DigestFiring if "digest" in event else JourneyFiring
    try:
        return model.model_validate(event)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "event"
        raise InvalidFiring(field, str(first["msg"]).removeprefix("Value error, ")) from None
