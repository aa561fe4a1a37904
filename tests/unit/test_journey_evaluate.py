"""Branch and segment conditions decided from the contact and the earlier steps' results."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import TypeAdapter

from baton.journeys.conditions import Condition
from baton.journeys.evaluate import ConditionFacts, evaluate, lookup_attribute, segment_matches
from baton.journeys.segments import Segment

CONDITION: TypeAdapter[Any] = TypeAdapter(Condition)

CONTACT = {
    "contact_id": "c-1",
    "country": "BR",
    "locale": "pt-BR",
    "first_name": None,
    "attributes": {
        "plan": "enterprise",
        "seats": 25,
        "vip": True,
        "tags": ["beta", "early"],
        "signed_up": "2026-03-10",
        "renews_at": "2026-09-01T12:00:00Z",
        "score": Decimal("7.5"),
        "address": {"city": "Recife"},
        "country": "PT",  # an attribute shadows the contact field of the same name
        "churned": None,
    },
    "sales": {"owner": "sam@example.com", "deal_open": True},
}
STEPS = {
    "hello": {"outcome": "sent", "channel": "email"},
    "nudge": {"outcome": "skipped", "channel": None},
    "confirmed": {"outcome": "sent", "channel": "sms", "delivered": False},
    "answered": {"event_received": True},
    "agent": {"handoff_outcome": "resolved"},
}


def holds(condition: dict[str, Any], contact: dict[str, Any] | None = None) -> bool:
    facts = ConditionFacts(contact=CONTACT if contact is None else contact, steps=STEPS)
    return evaluate(CONDITION.validate_python(condition), facts)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"attribute": "plan", "equals": "enterprise"}, True),
        ({"attribute": "plan", "equals": "free"}, False),
        ({"attribute": "seats", "equals": 25.0}, True),  # JSON numbers: 25 is 25.0
        ({"attribute": "vip", "equals": True}, True),
        ({"attribute": "seats", "equals": True}, False),
        ({"attribute": "vip", "equals": 1}, False),  # JSON: true is not 1
        ({"attribute": "seats", "equals": "25"}, False),  # a string is not a number
        ({"attribute": "tags", "equals": ["beta", "early"]}, True),
        ({"attribute": "address", "equals": {"city": "Recife"}}, True),
        ({"attribute": "score", "equals": 7.5}, True),  # DynamoDB numbers arrive as Decimal
        ({"attribute": "missing", "equals": None}, True),
    ],
)
def test_equals_is_json_equality(condition: dict[str, Any], expected: bool) -> None:
    assert holds(condition) is expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"attribute": "plan", "in": ["pro", "enterprise"]}, True),
        ({"attribute": "plan", "in": ["pro"]}, False),
        ({"attribute": "seats", "in": [10, 25]}, True),
        ({"attribute": "missing", "in": ["a"]}, False),
    ],
)
def test_in_matches_any_listed_value(condition: dict[str, Any], expected: bool) -> None:
    assert holds(condition) is expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"attribute": "plan", "exists": True}, True),
        ({"attribute": "missing", "exists": True}, False),
        ({"attribute": "missing", "exists": False}, True),
        ({"attribute": "churned", "exists": True}, False),  # null is the same as missing
        ({"attribute": "first_name", "exists": False}, True),
    ],
)
def test_exists_treats_null_as_missing(condition: dict[str, Any], expected: bool) -> None:
    assert holds(condition) is expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"attribute": "seats", "gt": 10}, True),
        ({"attribute": "seats", "gt": 25}, False),
        ({"attribute": "seats", "lt": 25.5}, True),
        ({"attribute": "score", "gt": 7}, True),
        ({"attribute": "signed_up", "gt": "2026-01-01"}, True),
        ({"attribute": "signed_up", "lt": "2026-03-10T00:00:01Z"}, True),
        ({"attribute": "renews_at", "gt": "2026-09-01"}, True),  # a date is its midnight UTC
        ({"attribute": "renews_at", "lt": "2026-09-01T09:00:00-05:00"}, True),  # 14:00 UTC
        ({"attribute": "missing", "gt": 0}, False),
        ({"attribute": "missing", "lt": 0}, False),
        ({"attribute": "plan", "gt": 1}, False),  # a string and a number do not compare
        ({"attribute": "seats", "gt": "2026-01-01"}, False),
        ({"attribute": "vip", "gt": 0}, False),  # true is not a number
    ],
)
def test_gt_and_lt_compare_numbers_and_iso_dates(condition: dict[str, Any], expected: bool) -> None:
    assert holds(condition) is expected


def test_attribute_lookup_order_attributes_then_fields_then_dotted_paths() -> None:
    assert lookup_attribute(CONTACT, "country") == "PT"  # attributes first
    assert lookup_attribute(CONTACT, "locale") == "pt-BR"  # then a contact field
    assert lookup_attribute(CONTACT, "address.city") == "Recife"  # a path inside attributes
    assert lookup_attribute(CONTACT, "sales.deal_open") is True  # a path from the contact
    assert lookup_attribute(CONTACT, "sales.nothing") is None
    assert lookup_attribute({}, "plan") is None


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"delivered": "hello"}, True),
        ({"delivered": "nudge"}, False),  # skipped
        ({"delivered": "confirmed"}, False),  # sent, but the receipt said no
        ({"delivered": "never-ran"}, False),
        ({"channel_used": {"step": "hello", "is": "email"}}, True),
        ({"channel_used": {"step": "hello", "is": "sms"}}, False),
        ({"channel_used": {"step": "nudge", "is": "email"}}, False),
        ({"event_received": "answered"}, True),
        ({"event_received": "hello"}, False),
        ({"handoff_outcome": {"step": "agent", "is": "resolved"}}, True),
        ({"handoff_outcome": {"step": "agent", "is": "timeout"}}, False),
    ],
)
def test_step_conditions_read_the_earlier_steps_results(condition: dict[str, Any], expected: bool) -> None:
    assert holds(condition) is expected


YES = {"attribute": "vip", "equals": True}
NO = {"attribute": "vip", "equals": False}


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"all": [YES, YES]}, True),
        ({"all": [YES, NO]}, False),
        ({"any": [NO, YES]}, True),
        ({"any": [NO, NO]}, False),
        ({"not": NO}, True),
        ({"not": YES}, False),
        ({"all": [YES, {"any": [NO, {"not": NO}]}]}, True),
    ],
)
def test_all_any_not_combine(condition: dict[str, Any], expected: bool) -> None:
    assert holds(condition) is expected


def test_a_segment_matches_on_attributes() -> None:
    segment = Segment.model_validate(
        {
            "segment": "gold-customers",
            "owner": "growth@example.com",
            "when": {
                "all": [
                    {"attribute": "tier", "equals": "gold"},
                    {"attribute": "bought_this_year", "equals": True},
                ]
            },
        }
    )

    assert segment_matches(segment, {"attributes": {"tier": "gold", "bought_this_year": True}})
    assert not segment_matches(segment, {"attributes": {"tier": "gold"}})


def test_not_a_number_compares_with_nothing() -> None:
    contact = {"attributes": {"score": float("nan")}}

    assert not holds({"attribute": "score", "gt": 0}, contact)
    assert not holds({"attribute": "score", "lt": 0}, contact)
