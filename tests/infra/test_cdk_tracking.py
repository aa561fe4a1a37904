"""SES open and click tracking (`tracking` in cdk.json): off by default, so the configuration set
publishes neither and the feedback rule matches neither; each one turned on adds its SES event
to the event destination and its detail-type to the rule, and nothing of the other."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack, assertions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_ses as ses

from infra.config import TrackingConfig
from infra.constructs.feedback import Feedback
from infra.synth import synthesize

DESTINATION = "AWS::SES::ConfigurationSetEventDestination"
CONFIGURATION_SET = "AWS::SES::ConfigurationSet"
ENGAGEMENT_EVENTS = {"open", "click"}
ENGAGEMENT_DETAIL_TYPES = {"Email Opened", "Email Clicked"}


def _published(template: Mapping[str, Any]) -> set[str]:
    (destination,) = _resources(template, DESTINATION)
    return set(destination["EventDestination"]["MatchingEventTypes"])


def _routed(template: Mapping[str, Any]) -> set[str]:
    (rule,) = [
        r for r in _resources(template, "AWS::Events::Rule") if r["EventPattern"].get("source") == ["aws.ses"]
    ]
    return set(rule["EventPattern"]["detail-type"])


def _resources(template: Mapping[str, Any], resource_type: str) -> list[Mapping[str, Any]]:
    return [r["Properties"] for r in template["Resources"].values() if r["Type"] == resource_type]


def _feedback_template(tracking: TrackingConfig) -> Mapping[str, Any]:
    """The Feedback construct alone, routed to a stand-in function."""
    stack = Stack(App(), "TrackingTest")
    feedback = Feedback(
        stack, "Feedback", configuration_set=ses.ConfigurationSet(stack, "Set"), tracking=tracking
    )
    feedback.route_to(
        lambda_.Function(
            stack,
            "Receiver",
            runtime=lambda_.Runtime.PYTHON_3_13,
            handler="index.handler",
            code=lambda_.Code.from_inline("def handler(event, context): pass"),
        )
    )
    template: Mapping[str, Any] = assertions.Template.from_stack(stack).to_json()
    return template


def test_by_default_ses_publishes_no_opens_or_clicks_and_the_rule_routes_none(
    template_json: dict[str, Any],
) -> None:
    assert _published(template_json) == {"bounce", "complaint", "delivery", "reject"}
    assert not _routed(template_json) & ENGAGEMENT_DETAIL_TYPES
    (configuration_set,) = _resources(template_json, CONFIGURATION_SET)
    assert "TrackingOptions" not in configuration_set


@pytest.mark.parametrize(
    ("opens", "clicks", "published", "routed"),
    [
        (False, False, set(), set()),
        (True, False, {"open"}, {"Email Opened"}),
        (False, True, {"click"}, {"Email Clicked"}),
        (True, True, {"open", "click"}, {"Email Opened", "Email Clicked"}),
    ],
)
def test_each_kind_of_tracking_turned_on_is_published_and_routed_and_only_that_kind(
    opens: bool, clicks: bool, published: set[str], routed: set[str]
) -> None:
    template = _feedback_template(TrackingConfig(opens=opens, clicks=clicks))

    assert _published(template) & ENGAGEMENT_EVENTS == published
    assert _routed(template) & ENGAGEMENT_DETAIL_TYPES == routed
    # Bounces, complaints, deliveries and rejects are published and routed whatever the switch.
    assert {"bounce", "complaint", "delivery", "reject"} <= _published(template)
    assert {"Email Bounced", "Email Complaint Received"} <= _routed(template)


@pytest.fixture(scope="module")
def tracked_template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tracking = {"opens": True, "clicks": True, "redirectDomain": "track.example.com"}
    out: Path = tmp_path_factory.mktemp("tracked")
    return synthesize(out, bundling=False, context={"baton": {"tracking": tracking}})


def test_with_tracking_on_the_stack_publishes_and_routes_opens_and_clicks(
    tracked_template: dict[str, Any],
) -> None:
    assert _published(tracked_template) >= ENGAGEMENT_EVENTS
    assert _routed(tracked_template) >= ENGAGEMENT_DETAIL_TYPES


def test_a_custom_redirect_domain_serves_tracking_links_over_https_only(
    tracked_template: dict[str, Any],
) -> None:
    (configuration_set,) = _resources(tracked_template, CONFIGURATION_SET)

    assert configuration_set["TrackingOptions"] == {
        "CustomRedirectDomain": "track.example.com",
        "HttpsPolicy": "REQUIRE",
    }
