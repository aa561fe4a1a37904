"""The journey DSL models (contract): the contract's own example, durations, and refusals."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from baton.journeys.conditions import AllOf, AttributeCondition, ChannelUsed, EventReceived, NotOf
from baton.journeys.durations import parse_duration
from baton.journeys.models import END, Journey, Purpose
from baton.journeys.segments import Segment
from baton.journeys.source import CatalogLoader
from baton.journeys.templates import Template

# ARCHITECTURE.md, "Journey DSL (contract)", verbatim.
CONTRACT_JOURNEY = """\
journey: support-follow-up        # id: lowercase letters, digits, '-'; unique
description: Ask for feedback once an agent has answered a support request.
owner: cx-team@example.com        # required
purpose: transactional            # transactional | marketing
topic: support                    # consent topic; required when purpose is marketing
review_by: 2027-05-01             # required; the inventory flags journeys past it
trigger:
  event: support.request_created  # or: schedule: "cron(0 9 ? * MON *)" with segment: <id>
exit_on: [support.request_withdrawn]   # events that end the journey early
steps:
  - id: ack
    send: {template: support-ack, channels: [email]}
  - id: agent-reply
    handoff: {queue: support-agents, sla: 24h, on_timeout: escalate, escalate_to: support-leads}
  - id: pause
    wait: {duration: 1d}
  - id: feedback
    send:
      template: csat-survey
      channels: [sms, email]        # in order: SMS first, email if SMS is not allowed or fails
      window: {start: "09:00", end: "18:00"}
      confirm_delivery: 10m         # optional: wait for the carrier's receipt, fail over if none
  - id: answered
    wait: {event: survey.answered, timeout: 3d}
  - id: route
    branch:
      cases:
        - when: {event_received: answered}
          next: end
        - when: {attribute: plan, equals: enterprise}
          next: call-back
      default: reminder
  - id: reminder
    send: {template: csat-reminder, channels: [email]}
    next: end
  - id: call-back
    handoff: {queue: account-managers, sla: 2d, on_timeout: end}
"""

CONTRACT_TEMPLATE = """\
template: csat-survey
owner: cx-team@example.com
purpose: transactional            # a marketing template needs approved_by
approved_by: legal@example.com
locales:
  en:
    email: {subject: "How did we do, {{ contact.first_name }}?", html: "...", text: "..."}
    sms: {text: "..."}
    voice: {text: "..."}
  pt-BR:
    email: {subject: "...", html: "...", text: "..."}
    sms: {text: "..."}
"""

CONTRACT_SEGMENT = """\
segment: gold-customers
owner: growth@example.com
description: Customers on the gold tier who bought this year.
when: {all: [{attribute: tier, equals: gold}, {attribute: bought_this_year, equals: true}]}
"""


def test_the_contract_example_journey_validates_handoff_included() -> None:
    journey = Journey.model_validate(yaml.safe_load(CONTRACT_JOURNEY))

    assert journey.journey == "support-follow-up"
    assert journey.purpose is Purpose.TRANSACTIONAL
    assert [step.kind for step in journey.steps] == [
        "send", "handoff", "wait", "send", "wait", "branch", "send", "handoff",
    ]  # fmt: skip
    assert journey.channels == ["email", "sms"]
    assert journey.templates == ["support-ack", "csat-survey", "csat-reminder"]
    assert journey.next_of(0) == "agent-reply"
    assert journey.next_of(6) == END  # reminder: next: end
    assert journey.next_of(7) == END  # the last step
    route = journey.step("route").branch
    assert route is not None
    assert isinstance(route.cases[0].when, EventReceived)
    assert isinstance(route.cases[1].when, AttributeCondition)
    assert route.cases[1].when.operator == "equals"


def test_the_contract_example_template_and_segment_validate() -> None:
    template = Template.model_validate(yaml.safe_load(CONTRACT_TEMPLATE))
    segment = Segment.model_validate(yaml.safe_load(CONTRACT_SEGMENT))

    assert sorted(template.locales) == ["en", "pt-BR"]
    assert template.locales["pt-BR"].voice is None
    assert isinstance(segment.when, AllOf)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("15m", timedelta(minutes=15)),
        ("4h", timedelta(hours=4)),
        ("2d", timedelta(days=2)),
        ("1w", timedelta(weeks=1)),
        ("365d", timedelta(days=365)),
    ],
)
def test_durations_read_the_five_units(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "0d", "2 days", "1.5h", "-1d", "3y", "d", "10"])
def test_durations_refuse_other_forms(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)


def test_r_rel_1_no_wait_is_longer_than_a_year() -> None:
    with pytest.raises(ValueError, match="longer than a year"):
        parse_duration("53w")


def journey_with(**changes: object) -> dict[str, object]:
    data: dict[str, object] = yaml.safe_load(CONTRACT_JOURNEY)
    data.update(changes)
    return data


def errors_of(data: dict[str, object]) -> list[tuple[tuple[str | int, ...], str]]:
    with pytest.raises(ValidationError) as raised:
        Journey.model_validate(data)
    return [(tuple(error["loc"]), error["type"]) for error in raised.value.errors()]


def test_a_marketing_journey_needs_a_topic() -> None:
    assert errors_of(journey_with(purpose="marketing", topic=None)) == [((), "marketing_without_topic")]


def test_a_step_has_exactly_one_kind() -> None:
    step = {"id": "x", "send": {"template": "t", "channels": ["email"]}, "wait": {"duration": "1d"}}

    assert errors_of(journey_with(steps=[step])) == [(("steps", 0), "value_error")]


def test_a_branch_has_no_next() -> None:
    step = {"id": "x", "branch": {"cases": [{"when": {"delivered": "a"}, "next": "end"}], "default": "end"}}

    assert errors_of(journey_with(steps=[{**step, "next": "end"}])) == [(("steps", 0), "branch_with_next")]


@pytest.mark.parametrize(
    "wait",
    [
        {},
        {"duration": "1d", "event": "a.b", "timeout": "1d"},
        {"event": "a.b"},
        {"duration": "1d", "timeout": "1d"},
    ],
)
def test_a_wait_is_a_duration_or_an_event_with_a_timeout(wait: dict[str, str]) -> None:
    assert errors_of(journey_with(steps=[{"id": "x", "wait": wait}])) == [
        (("steps", 0, "wait"), "value_error")
    ]


@pytest.mark.parametrize(
    "trigger",
    [
        {},
        {"event": "a.b", "schedule": "cron(0 9 ? * MON *)", "segment": "s"},
        {"schedule": "cron(0 9 ? * MON *)"},
        {"schedule": "every monday", "segment": "s"},
        {"event": "a.b", "segment": "s"},
    ],
)
def test_a_trigger_is_an_event_or_a_schedule_with_a_segment(trigger: dict[str, str]) -> None:
    assert errors_of(journey_with(trigger=trigger)) == [(("trigger",), "value_error")]


def test_a_window_that_never_opens_is_refused() -> None:
    step = {
        "id": "x",
        "send": {"template": "t", "channels": ["sms"], "window": {"start": "09:00", "end": "09:00"}},
    }

    assert errors_of(journey_with(steps=[step])) == [(("steps", 0, "send", "window"), "empty_window")]


def test_escalate_needs_escalate_to() -> None:
    step = {"id": "x", "handoff": {"queue": "q", "sla": "1d", "on_timeout": "escalate"}}

    assert errors_of(journey_with(steps=[step])) == [(("steps", 0, "handoff"), "value_error")]


def test_conditions_nest_and_read_their_aliases() -> None:
    step = {
        "id": "x",
        "branch": {
            "cases": [
                {
                    "when": {"not": {"channel_used": {"step": "a", "is": "sms"}}},
                    "next": "end",
                },
                {"when": {"attribute": "tier", "in": ["gold", "silver"]}, "next": "end"},
            ],
            "default": "end",
        },
    }

    branch = Journey.model_validate(journey_with(steps=[step])).steps[0].branch

    assert branch is not None
    negated = branch.cases[0].when
    assert isinstance(negated, NotOf)
    assert isinstance(negated.not_, ChannelUsed)
    assert negated.not_.channel_used.is_ == "sms"
    tier = branch.cases[1].when
    assert isinstance(tier, AttributeCondition)
    assert (tier.operator, tier.in_) == ("in", ["gold", "silver"])


@pytest.mark.parametrize("bound", ["soon", True])
def test_gt_and_lt_compare_numbers_or_iso_dates_only(bound: object) -> None:
    step = {
        "id": "x",
        "branch": {"cases": [{"when": {"attribute": "a", "gt": bound}, "next": "end"}], "default": "end"},
    }

    errors = errors_of(journey_with(steps=[step]))

    assert errors[0][0][:6] == ("steps", 0, "branch", "cases", 0, "when")


def test_the_contract_examples_validate_against_the_committed_json_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    folder = Path(__file__).resolve().parents[2] / "journeys" / "schema"
    examples = {"journey": CONTRACT_JOURNEY, "template": CONTRACT_TEMPLATE, "segment": CONTRACT_SEGMENT}
    for kind, text in examples.items():
        schema = json.loads((folder / f"{kind}.schema.json").read_text(encoding="utf-8"))
        data = yaml.load(text, Loader=CatalogLoader)  # noqa: S506 (a safe loader; dates stay strings)

        assert [error.message for error in jsonschema.Draft202012Validator(schema).iter_errors(data)] == []


def test_the_json_schema_refuses_a_step_with_two_kinds_for_editors() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    folder = Path(__file__).resolve().parents[2] / "journeys" / "schema"
    schema = json.loads((folder / "journey.schema.json").read_text(encoding="utf-8"))
    data = yaml.load(CONTRACT_JOURNEY, Loader=CatalogLoader)  # noqa: S506 (a safe loader)
    data["steps"][2]["send"] = {"template": "t", "channels": ["email"]}

    assert list(jsonschema.Draft202012Validator(schema).iter_errors(data)) != []
