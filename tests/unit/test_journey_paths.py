"""Which way a run over an audience reaches each contact: a batch when nothing waits for a
contact, one execution per contact when a step waits, hands off, waits for a receipt or loops."""

from __future__ import annotations

from typing import Any

import pytest

from baton.journeys.models import Journey
from baton.journeys.paths import Path, journey_path


def _journey(*steps: dict[str, Any]) -> Journey:
    return Journey.model_validate(
        {
            "journey": "spring-sale",
            "owner": "growth@example.com",
            "purpose": "marketing",
            "topic": "news",
            "review_by": "2027-03-01",
            "trigger": {"event": "campaign.spring"},
            "steps": list(steps),
        }
    )


SEND = {"id": "note", "send": {"template": "sale-note", "channels": ["sms", "email"]}}


def test_sends_and_branches_run_as_a_batch() -> None:
    journey = _journey(
        {
            "id": "route",
            "branch": {
                "cases": [{"when": {"attribute": "vip", "equals": True}, "next": "note"}],
                "default": "end",
            },
        },
        SEND,
    )

    choice = journey_path(journey)

    assert choice.path is Path.BATCH
    assert "nothing waits" in choice.why


@pytest.mark.parametrize(
    ("step", "why"),
    [
        ({"id": "pause", "wait": {"duration": "1d"}}, "step pause waits"),
        (
            {"id": "call", "handoff": {"queue": "sales", "sla": "1d", "on_timeout": "end"}},
            "hands off to sales",
        ),
        (
            {
                "id": "receipt",
                "send": {"template": "sale-note", "channels": ["sms"], "confirm_delivery": "1h"},
            },
            "waits for its delivery receipt",
        ),
    ],
)
def test_a_step_that_waits_for_a_contact_needs_an_execution_per_contact(
    step: dict[str, Any], why: str
) -> None:
    choice = journey_path(_journey(SEND, step))

    assert choice.path is Path.EXECUTIONS
    assert why in choice.why


def test_a_loop_needs_an_execution_per_contact() -> None:
    journey = _journey(
        {**SEND, "next": "again"},
        {
            "id": "again",
            "branch": {
                "cases": [{"when": {"attribute": "vip", "equals": True}, "next": "note"}],
                "default": "end",
            },
        },
    )

    choice = journey_path(journey)

    assert choice.path is Path.EXECUTIONS
    assert "loop" in choice.why
