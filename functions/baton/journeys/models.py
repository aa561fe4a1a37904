"""The journey DSL (contract, ARCHITECTURE.md): one YAML file per journey in `journeys/`.

Unknown keys are errors everywhere. A step has an `id`, exactly one kind (`send`, `wait`,
`branch`, `handoff`, `split`) and an optional `next` (a step id or `end`; without it the next
step in the list follows). A journey may name a `goal` (an event that counts as a conversion
within a time of entry) and a `holdout` (a share of contacts entered but sent nothing).
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, EmailStr, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from baton.consent.models import Topic
from baton.consent.vocabulary import Channel
from baton.journeys.conditions import Condition, StepId
from baton.journeys.durations import Duration
from baton.schedules.expressions import validate as validate_schedule

JOURNEY_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}$"
END = "end"
CLOCK_TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
_CLOCK_TIME = re.compile(CLOCK_TIME_PATTERN)
_CRON = re.compile(r"^cron\(.+\)$|^rate\(.+\)$")

JourneyId = Annotated[str, Field(pattern=JOURNEY_ID_PATTERN)]
TemplateId = Annotated[str, Field(pattern=JOURNEY_ID_PATTERN)]
Target = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]  # a step id or `end`


class Purpose(StrEnum):
    TRANSACTIONAL = "transactional"
    MARKETING = "marketing"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Window(_Strict):
    """`{start: "09:00", end: "18:00"}` in the recipient's time zone."""

    start: Annotated[str, Field(json_schema_extra={"pattern": CLOCK_TIME_PATTERN})]
    end: Annotated[str, Field(json_schema_extra={"pattern": CLOCK_TIME_PATTERN})]

    @field_validator("start", "end", mode="before")
    @classmethod
    def _clock(cls, value: Any) -> Any:
        if isinstance(value, str) and not _CLOCK_TIME.fullmatch(value):
            raise ValueError(f"{value!r} is not a time: use HH:MM (24 h), in quotes")
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> Window:
        if self.start == self.end:
            raise PydanticCustomError(
                "empty_window", "the window starts and ends at {at}: it never opens", {"at": self.start}
            )
        return self


class Send(_Strict):
    template: TemplateId
    channels: Annotated[list[Channel], Field(min_length=1)]
    window: Window | None = None
    confirm_delivery: Duration | None = None
    # A transactional send whose provider answer is lost (a read timeout, a 5xx of unknown
    # effect) is sent again: at least once, a duplicate possible. Default: at most once.
    at_least_once: bool = False

    @field_validator("channels")
    @classmethod
    def _unique(cls, value: list[Channel]) -> list[Channel]:
        if len(set(value)) != len(value):
            raise ValueError("a channel is listed twice")
        return value


class Wait(_Strict):
    """`{duration: 1d}`, or `{event: survey.answered, timeout: 3d}`."""

    duration: Duration | None = None
    event: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    timeout: Duration | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Wait:
        if (self.duration is None) == (self.event is None):
            raise ValueError("a wait needs either duration, or event with timeout")
        if self.event is not None and self.timeout is None:
            raise ValueError("a wait for an event needs a timeout")
        if self.duration is not None and self.timeout is not None:
            raise ValueError("timeout goes with event, not with duration")
        return self


class Case(_Strict):
    when: Condition
    next: Target


class Branch(_Strict):
    cases: Annotated[list[Case], Field(min_length=1)]
    default: Target


# `holdout` is what a held-out contact's entries say instead of a variant: no split may use it.
HOLDOUT_VARIANT = "holdout"


class Variant(_Strict):
    """One arm of a split: `{name: short, weight: 50, next: short-offer}`."""

    name: StepId
    weight: Annotated[int, Field(gt=0, strict=True)]
    next: Target


class Split(_Strict):
    """`{variants: [...]}`: a contact goes one way, the same on every entry (`baton.journeys.split`)."""

    variants: Annotated[list[Variant], Field(min_length=2)]

    @model_validator(mode="after")
    def _names(self) -> Split:
        names = [variant.name for variant in self.variants]
        if HOLDOUT_VARIANT in names:
            raise PydanticCustomError(
                "holdout_variant",
                "`holdout` is reserved: it names the contacts a journey's holdout sends nothing",
            )
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise PydanticCustomError(
                "variant_twice",
                "variant {names} is named twice: each variant needs a name of its own",
                {"names": ", ".join(twice)},
            )
        return self


class Goal(_Strict):
    """`{event: order.placed, within: 7d}`: that event within 7d of entering converts, once per entry."""

    event: Annotated[str, Field(min_length=1, max_length=128)]
    within: Duration


HOLDOUT_PATTERN = r"^([1-9][0-9]?|0)(\.[0-9])?%$"
_HOLDOUT = re.compile(HOLDOUT_PATTERN)


def _holdout(value: Any) -> Any:
    text = value if isinstance(value, str) else None
    match = _HOLDOUT.fullmatch(text) if text is not None else None
    if match is None or holdout_tenths(text or "") <= 0:
        raise ValueError(
            f"{value!r} is not a holdout: write a percentage above 0 and below 100, a whole number or "
            "one decimal (e.g. 10% or 2.5%)"
        )
    return value


def holdout_tenths(text: str) -> int:
    """`10%` -> 100, `2.5%` -> 25: the holdout in tenths of a percent (of 1000)."""
    whole, _, tenth = text.rstrip("%").partition(".")
    return int(whole) * 10 + int(tenth or 0)


# Kept as written (`10%`): the YAML's own words in errors, the inventory and the timeline.
Holdout = Annotated[str, Field(json_schema_extra={"pattern": HOLDOUT_PATTERN}), BeforeValidator(_holdout)]


class Handoff(_Strict):
    queue: Annotated[str, Field(pattern=JOURNEY_ID_PATTERN)]
    sla: Duration
    on_timeout: Literal["escalate", "end", "continue"]
    escalate_to: Annotated[str, Field(pattern=JOURNEY_ID_PATTERN)] | None = None

    @model_validator(mode="after")
    def _escalation(self) -> Handoff:
        if self.on_timeout == "escalate" and self.escalate_to is None:
            raise ValueError("on_timeout: escalate needs escalate_to")
        if self.on_timeout != "escalate" and self.escalate_to is not None:
            raise ValueError("escalate_to goes with on_timeout: escalate")
        return self


StepKind = Literal["send", "wait", "branch", "handoff", "split"]
_STEP_KINDS: tuple[StepKind, ...] = ("send", "wait", "branch", "handoff", "split")


class Step(_Strict):
    # For editors: exactly one kind (the `_one_kind` validator words the error for `baton validate`).
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={"oneOf": [{"required": [kind]} for kind in _STEP_KINDS]},
    )

    id: StepId
    send: Send | None = None
    wait: Wait | None = None
    branch: Branch | None = None
    handoff: Handoff | None = None
    split: Split | None = None
    next: Target | None = None

    @model_validator(mode="before")
    @classmethod
    def _one_kind(cls, data: Any) -> Any:
        if isinstance(data, dict):
            kinds = [kind for kind in _STEP_KINDS if kind in data]
            if len(kinds) != 1:
                unknown = [str(key) for key in data if key not in {*_STEP_KINDS, "id", "next"}]
                found = f"found {', '.join(kinds)}" if kinds else "found none"
                hint = f"; unknown keys: {', '.join(unknown)}" if unknown else ""
                raise ValueError(f"a step needs exactly one of {', '.join(_STEP_KINDS)} ({found}{hint})")
        return data

    @property
    def kind(self) -> StepKind:
        for kind in _STEP_KINDS:
            if getattr(self, kind) is not None:
                return kind
        raise AssertionError("validated to have one kind")

    @model_validator(mode="after")
    def _branch_has_no_next(self) -> Step:
        if self.branch is not None and self.next is not None:
            raise PydanticCustomError(
                "branch_with_next", "a branch chooses its next step in cases/default: next is not allowed"
            )
        if self.split is not None and self.next is not None:
            raise PydanticCustomError(
                "split_with_next", "a split chooses its next step in each variant's next: next is not allowed"
            )
        return self


class Trigger(_Strict):
    """`{event: support.request_created}` or `{schedule: "cron(0 9 ? * MON *)", segment: gold-customers}`."""

    event: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    schedule: str | None = None
    segment: Annotated[str, Field(pattern=JOURNEY_ID_PATTERN)] | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Trigger:
        if (self.event is None) == (self.schedule is None):
            raise ValueError("a trigger needs either event, or schedule with segment")
        if self.schedule is not None:
            if self.segment is None:
                raise ValueError("a schedule trigger needs a segment")
            if not _CRON.fullmatch(self.schedule):
                raise ValueError(
                    f"{self.schedule!r} is not an EventBridge schedule: use cron(...) or rate(...)"
                )
            # The fields too, as EventBridge Scheduler reads them (a ValueError).
            validate_schedule(self.schedule)
        elif self.segment is not None:
            raise ValueError("segment goes with schedule, not with event")
        return self


class Journey(_Strict):
    journey: JourneyId
    description: Annotated[str, Field(min_length=1, max_length=1000)] | None = None
    owner: EmailStr
    purpose: Purpose
    topic: Topic | None = None
    review_by: date
    trigger: Trigger
    exit_on: list[Annotated[str, Field(min_length=1, max_length=128)]] = Field(default_factory=list)
    goal: Goal | None = None
    holdout: Holdout | None = None
    steps: Annotated[list[Step], Field(min_length=1)]

    @model_validator(mode="after")
    def _topic_for_marketing(self) -> Journey:
        if self.purpose == Purpose.MARKETING and self.topic is None:
            raise PydanticCustomError(
                "marketing_without_topic", "a marketing journey needs a consent topic (R-TCPA-1, R-GDPR-1)"
            )
        return self

    @model_validator(mode="after")
    def _marketing_at_most_once(self) -> Journey:
        # A marketing message sent twice is a second unsolicited message: never risked.
        if self.purpose == Purpose.MARKETING and any(s.send and s.send.at_least_once for s in self.steps):
            raise PydanticCustomError(
                "marketing_at_least_once",
                "at_least_once is for transactional sends: marketing is at most once",
            )
        return self

    @property
    def splits(self) -> list[Step]:
        return [step for step in self.steps if step.split is not None]

    def step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    def next_of(self, index: int) -> str:
        """Where step `index` goes when it completes: its `next`, else the following step, else end."""
        step = self.steps[index]
        if step.next is not None:
            return step.next
        return self.steps[index + 1].id if index + 1 < len(self.steps) else END

    @property
    def channels(self) -> list[Channel]:
        seen: dict[Channel, None] = {}
        for step in self.steps:
            if step.send is not None:
                seen.update(dict.fromkeys(step.send.channels))
        return list(seen)

    @property
    def templates(self) -> list[str]:
        return list(dict.fromkeys(step.send.template for step in self.steps if step.send is not None))
