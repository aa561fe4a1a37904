"""Branch and segment conditions (contract): attribute tests, step results, and all/any/not."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, JsonValue, Tag, model_validator

from baton.consent.vocabulary import Channel

StepId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]

_OPERATORS = ("equals", "in", "exists", "gt", "lt")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class AttributeCondition(_Strict):
    """`{attribute: plan, equals: enterprise}`; exactly one of equals, in, exists, gt, lt.

    `attribute` names a key of the contact's `attributes`, or a contact field (`country`,
    `locale`, `timezone`, `first_name`, ...), or a dotted path (`sales.deal_open`).
    """

    # For editors: `attribute` and one operator (`_one_operator` words the error for `baton validate`).
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        populate_by_name=True,
        json_schema_extra={"minProperties": 2, "maxProperties": 2},
    )

    attribute: Annotated[str, Field(min_length=1, max_length=255)]
    equals: JsonValue = None
    in_: Annotated[list[JsonValue] | None, Field(alias="in")] = None
    exists: bool | None = None
    gt: float | str | None = None
    lt: float | str | None = None

    @model_validator(mode="before")
    @classmethod
    def _one_operator(cls, data: Any) -> Any:
        if isinstance(data, dict):
            given = [op for op in _OPERATORS if op in data]
            if len(given) != 1:
                found = f"found {', '.join(given)}" if given else "found none"
                raise ValueError(
                    f"an attribute condition needs exactly one of {', '.join(_OPERATORS)} ({found})"
                )
            for op in ("gt", "lt"):
                value = data.get(op)
                if isinstance(value, str) and not is_iso_date(value):
                    raise ValueError(f"{op} compares numbers or ISO dates (2026-05-01): {value!r} is neither")
                if isinstance(value, bool):
                    raise ValueError(f"{op} compares numbers or ISO dates, not true/false")
        return data

    @property
    def operator(self) -> str:
        for name in _OPERATORS:
            if name in self.model_fields_set or (name == "in" and "in_" in self.model_fields_set):
                return name
        raise AssertionError("validated to have one operator")


class EventReceived(_Strict):
    event_received: StepId


class Delivered(_Strict):
    delivered: StepId


class StepIs(_Strict):
    step: StepId
    is_: Annotated[str, Field(alias="is", min_length=1)]


class StepChannel(_Strict):
    step: StepId
    is_: Annotated[Channel, Field(alias="is")]


class ChannelUsed(_Strict):
    channel_used: StepChannel


class HandoffOutcome(_Strict):
    handoff_outcome: StepIs


class AllOf(_Strict):
    all: Annotated[list[Condition], Field(min_length=1)]


class AnyOf(_Strict):
    any: Annotated[list[Condition], Field(min_length=1)]


class NotOf(_Strict):
    not_: Annotated[Condition, Field(alias="not")]


# The key that tells a condition's kind; a tagged union gives one clear error per condition
# instead of one per union member.
_KIND_KEYS = {
    "attribute": "attribute condition",
    "event_received": "event_received condition",
    "delivered": "delivered condition",
    "channel_used": "channel_used condition",
    "handoff_outcome": "handoff_outcome condition",
    "all": "all condition",
    "any": "any condition",
    "not": "not condition",
}
CONDITION_TAGS = frozenset(_KIND_KEYS.values())
"""Tags pydantic puts in an error's `loc`; they are not YAML keys (the catalog skips them)."""


def _condition_kind(value: Any) -> str | None:
    if isinstance(value, BaseModel):
        return _MODEL_TAGS.get(type(value))
    if isinstance(value, dict):
        kinds = [key for key in _KIND_KEYS if key in value]
        if len(kinds) == 1:
            return _KIND_KEYS[kinds[0]]
    return None  # none or several: the discriminator's own error names the choices


Condition = Annotated[
    Union[  # noqa: UP007 (a recursive alias reads better spelled out)
        Annotated[AttributeCondition, Tag("attribute condition")],
        Annotated[EventReceived, Tag("event_received condition")],
        Annotated[Delivered, Tag("delivered condition")],
        Annotated[ChannelUsed, Tag("channel_used condition")],
        Annotated[HandoffOutcome, Tag("handoff_outcome condition")],
        Annotated[AllOf, Tag("all condition")],
        Annotated[AnyOf, Tag("any condition")],
        Annotated[NotOf, Tag("not condition")],
    ],
    Discriminator(
        _condition_kind,
        custom_error_type="condition_kind",
        custom_error_message=(
            "a condition has exactly one of attribute, event_received, delivered, channel_used, "
            "handoff_outcome, all, any, not"
        ),
    ),
]

_MODEL_TAGS: dict[type[BaseModel], str] = {
    AttributeCondition: "attribute condition",
    EventReceived: "event_received condition",
    Delivered: "delivered condition",
    ChannelUsed: "channel_used condition",
    HandoffOutcome: "handoff_outcome condition",
    AllOf: "all condition",
    AnyOf: "any condition",
    NotOf: "not condition",
}
CONDITION_MODEL_OF_TAG: dict[str, type[BaseModel]] = {tag: model for model, tag in _MODEL_TAGS.items()}

for _model in (AllOf, AnyOf, NotOf):
    _model.model_rebuild()


def is_iso_date(text: str) -> bool:
    """`2026-05-01` or `2026-05-01T09:00:00Z`: what gt/lt accept besides numbers."""
    try:
        parse_iso(text)
    except ValueError:
        return False
    return True


def parse_iso(text: str) -> datetime:
    """An ISO date or date-time as an aware datetime (a date is its midnight UTC; naive is UTC)."""
    if len(text) == 10:
        day = date.fromisoformat(text)
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    if len(text) < 10 or text[4] != "-":
        raise ValueError(f"{text!r} is not an ISO date")
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def step_references(condition: Condition) -> list[str]:
    """The step ids a condition reads (for validation: they must exist and come before)."""
    match condition:
        case EventReceived():
            return [condition.event_received]
        case Delivered():
            return [condition.delivered]
        case ChannelUsed():
            return [condition.channel_used.step]
        case HandoffOutcome():
            return [condition.handoff_outcome.step]
        case AllOf():
            return [ref for inner in condition.all for ref in step_references(inner)]
        case AnyOf():
            return [ref for inner in condition.any for ref in step_references(inner)]
        case NotOf():
            return step_references(condition.not_)
    return []


ConditionKind = Literal["attribute", "event_received", "delivered", "channel_used", "handoff_outcome"]
