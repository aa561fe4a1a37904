"""The split step compiled: a Task the runner answers `{variant, next}`, then a Choice on `next`."""

from __future__ import annotations

from typing import Any

from baton.journeys.models import Journey
from infra.journeys.compiler import (
    FINISH_STATE,
    START_STATE,
    STEP_BUILDERS,
    build_split,
    render_definition,
    step_form,
)

FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:Baton-JourneyStep"

STEPS: list[dict[str, Any]] = [
    {
        "id": "subject",
        "split": {
            "variants": [
                {"name": "short", "weight": 50, "next": "short-offer"},
                {"name": "long", "weight": 30, "next": "long-offer"},
                {"name": "none", "weight": 20, "next": "end"},
            ]
        },
    },
    {"id": "short-offer", "send": {"template": "promo", "channels": ["email"]}, "next": "end"},
    {"id": "long-offer", "send": {"template": "promo", "channels": ["email"]}},
]


def _journey() -> Journey:
    return Journey.model_validate(
        {
            "journey": "promo-run",
            "owner": "growth@example.com",
            "purpose": "transactional",
            "review_by": "2027-01-01",
            "trigger": {"event": "lead.created"},
            "goal": {"event": "order.placed", "within": "7d"},
            "holdout": "10%",
            "steps": STEPS,
        }
    )


def test_the_split_step_has_its_own_builder() -> None:
    assert step_form(_journey().steps[0]) == "split"
    assert STEP_BUILDERS["split"] is build_split


def test_a_split_asks_the_function_for_the_variant_then_chooses_on_next() -> None:
    definition = render_definition(_journey(), function_arn=FUNCTION_ARN)
    states = definition["States"]

    # A run that is not resumed begins at the split (the Start choice is for held sends).
    assert definition["StartAt"] == START_STATE
    fresh = next(c for c in states[START_STATE]["Choices"] if c.get("IsPresent") is False)
    assert fresh["Next"] == "Split subject"
    task = states["Split subject"]
    assert task["Type"] == "Task"
    assert task["Parameters"]["action"] == "split"
    assert task["Parameters"]["step"] == "subject"
    assert task["ResultPath"] == "$.steps.subject"
    assert task["Next"] == "subject next"
    assert task["Catch"][0]["Next"] == "Record failure"
    choice = states["subject next"]
    assert choice["Type"] == "Choice"
    assert [(c["Variable"], c["StringEquals"], c["Next"]) for c in choice["Choices"]] == [
        ("$.steps.subject.next", "short-offer", "Send short-offer"),
        ("$.steps.subject.next", "long-offer", "Send long-offer"),
        ("$.steps.subject.next", "end", FINISH_STATE),
    ]
    assert choice["Default"] == "Unexpected subject"


def test_goal_and_holdout_add_no_states() -> None:
    # The holdout is decided before any execution starts, the goal when its event arrives.
    plain = _journey().model_copy(update={"goal": None, "holdout": None})
    with_both = render_definition(_journey(), function_arn=FUNCTION_ARN)
    assert with_both == render_definition(plain, function_arn=FUNCTION_ARN)
