"""Decide a branch or segment condition from facts: the contact and the results of earlier steps.

Pure: no clock, no AWS. The facts are what the state machine carries (`$.steps`) and the contact
as read at the moment of the branch.

Attribute lookup, first match wins: `contact["attributes"][name]`; a contact field (`country`,
`locale`); a dotted path inside `attributes` (`address.city`); a dotted path from the contact
(`sales.deal_open`). A value of None (JSON null) is the same as a missing attribute.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from baton.journeys.conditions import (
    AllOf,
    AnyOf,
    AttributeCondition,
    ChannelUsed,
    Condition,
    Delivered,
    EventReceived,
    HandoffOutcome,
    NotOf,
    parse_iso,
)
from baton.journeys.segments import Segment

_MISSING = object()


@dataclass(frozen=True)
class ConditionFacts:
    """`contact`: the contact's fields with `attributes`. `steps`: `$.steps` of the execution, per
    step id: a send's `{"outcome", "channel", ...}` (with `delivered` after confirm_delivery),
    a wait's `event_received`, a hand-off's `handoff_outcome`."""

    contact: Mapping[str, Any]
    steps: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


def evaluate(condition: Condition, facts: ConditionFacts) -> bool:
    match condition:
        case AttributeCondition():
            return _attribute(condition, lookup_attribute(facts.contact, condition.attribute))
        case Delivered():
            # A send step delivered: it went out, and (with confirm_delivery) the
            # carrier confirmed it. Without a receipt to wait for, sent counts as delivered.
            result = facts.steps.get(condition.delivered) or {}
            return result.get("outcome") == "sent" and result.get("delivered", True) is True
        case ChannelUsed():
            result = facts.steps.get(condition.channel_used.step) or {}
            return result.get("outcome") == "sent" and result.get("channel") == condition.channel_used.is_
        case EventReceived():
            result = facts.steps.get(condition.event_received) or {}
            return result.get("event_received") is True
        case HandoffOutcome():
            result = facts.steps.get(condition.handoff_outcome.step) or {}
            return bool(result.get("handoff_outcome") == condition.handoff_outcome.is_)
        case AllOf():
            return all(evaluate(inner, facts) for inner in condition.all)
        case AnyOf():
            return any(evaluate(inner, facts) for inner in condition.any)
        case NotOf():
            return not evaluate(condition.not_, facts)
    raise TypeError(f"not a condition: {condition!r}")


def segment_matches(segment: Segment, contact: Mapping[str, Any]) -> bool:
    """Whether a contact belongs to the segment (segments test attributes only)."""
    return evaluate(segment.when, ConditionFacts(contact=contact))


def lookup_attribute(contact: Mapping[str, Any], name: str) -> Any:
    """The attribute's value, or None when the contact does not have it (see the module docstring)."""
    attributes = contact.get("attributes")
    attributes = attributes if isinstance(attributes, Mapping) else {}
    for found in (
        attributes.get(name, _MISSING),
        contact.get(name, _MISSING) if name != "attributes" else _MISSING,
        _path(attributes, name),
        _path(contact, name),
    ):
        if found is not _MISSING and found is not None:
            return found
    return None


def _path(root: Mapping[str, Any], name: str) -> Any:
    if "." not in name:
        return _MISSING
    node: Any = root
    for part in name.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return _MISSING
        node = node[part]
    return node


def _attribute(condition: AttributeCondition, value: Any) -> bool:
    match condition.operator:
        case "exists":
            return (value is not None) == condition.exists
        case "equals":
            return json_equal(value, condition.equals)
        case "in":
            return any(json_equal(value, option) for option in condition.in_ or [])
        case "gt":
            order = _compare(value, condition.gt)
            return order is not None and order > 0
        case "lt":
            order = _compare(value, condition.lt)
            return order is not None and order < 0
    raise AssertionError(condition.operator)


def json_equal(left: Any, right: Any) -> bool:
    """Equality as JSON sees it: `true` is not `1`, `1` is `1.0`, lists and maps compare deeply."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if _is_number(left) and _is_number(right):
        return Decimal(str(left)) == Decimal(str(right))
    if isinstance(left, list | tuple) and isinstance(right, list | tuple):
        return len(left) == len(right) and all(json_equal(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, Mapping) and isinstance(right, Mapping):
        return left.keys() == right.keys() and all(json_equal(left[key], right[key]) for key in left)
    if type(left) is not type(right) and not (isinstance(left, str) and isinstance(right, str)):
        return False
    return bool(left == right)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _compare(value: Any, bound: float | str | None) -> int | None:
    """-1/0/1 comparing value to bound as numbers or as ISO dates; None when they do not compare."""
    if value is None or bound is None:
        return None
    if _is_number(value) and _is_number(bound):
        left, right = Decimal(str(value)), Decimal(str(bound))
        if left.is_nan() or right.is_nan():
            return None
    elif isinstance(value, str) and isinstance(bound, str):
        try:
            left_moment, right_moment = parse_iso(value), parse_iso(bound)
        except ValueError:
            return None
        return (left_moment > right_moment) - (left_moment < right_moment)
    else:
        return None
    return (left > right) - (left < right)
