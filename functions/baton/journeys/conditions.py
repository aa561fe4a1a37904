"""Branch and segment conditions (contract): attribute tests, step results, and all/any/not."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, JsonValue, model_validator

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
                raise ValueError(f"an attribute condition needs exactly one of {', '.join(_OPERATORS)}")
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


class ChannelUsed(_Strict):
    channel_used: StepIs

    @model_validator(mode="after")
    def _channel(self) -> ChannelUsed:
        if self.channel_used.is_ not in {channel.value for channel in Channel}:
            raise ValueError(f"channel_used.is must be one of {', '.join(c.value for c in Channel)}")
        return self


class HandoffOutcome(_Strict):
    handoff_outcome: StepIs


class AllOf(_Strict):
    all: Annotated[list[Condition], Field(min_length=1)]


class AnyOf(_Strict):
    any: Annotated[list[Condition], Field(min_length=1)]


class NotOf(_Strict):
    not_: Annotated[Condition, Field(alias="not")]


Condition = Union[  # noqa: UP007 (a recursive alias reads better spelled out)
    AttributeCondition, EventReceived, Delivered, ChannelUsed, HandoffOutcome, AllOf, AnyOf, NotOf
]

for _model in (AllOf, AnyOf, NotOf):
    _model.model_rebuild()


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
