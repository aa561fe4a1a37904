"""A dashboard per journey and an alarm on its failure rate, read from the journey's metrics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import assertions

from baton.figures.cloudwatch import NAMESPACE, Dimension
from baton.journeys.catalog import load_catalog
from infra.config import DashboardsConfig

CATALOG = load_catalog(Path(__file__).resolve().parents[2] / "journeys")
JOURNEYS = sorted(CATALOG.journeys)


def _text(value: Any) -> str:
    """A DashboardBody's Fn::Join as text (references as placeholders)."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        return "".join(_text(part) for part in value["Fn::Join"][1])
    return "REF"


def _dashboard(template: assertions.Template, journey: str) -> dict[str, Any]:
    (dashboard,) = [
        d
        for d in template.find_resources("AWS::CloudWatch::Dashboard").values()
        if d["Properties"]["DashboardName"].endswith(f"-journey-{journey}")
    ]
    body: dict[str, Any] = json.loads(_text(dashboard["Properties"]["DashboardBody"]))
    return body


def _widget(body: dict[str, Any], title_start: str) -> dict[str, Any]:
    (widget,) = [w for w in body["widgets"] if w["properties"].get("title", "").startswith(title_start)]
    return widget["properties"]


def _metrics(widget: dict[str, Any]) -> list[tuple[str, dict[str, str]]]:
    """(metric name, dimensions) of each metric line of a graph widget."""
    found = []
    for line in widget["metrics"]:
        fields = [field for field in line if not isinstance(field, dict)]
        if fields and fields[0] == NAMESPACE:
            name, rest = fields[1], fields[2:]
            found.append((name, dict(zip(rest[::2], rest[1::2], strict=True))))
    return found


@pytest.mark.parametrize("journey", JOURNEYS)
def test_every_journey_has_its_dashboard_with_its_funnel_by_step(
    template: assertions.Template, journey: str
) -> None:
    body = _dashboard(template, journey)
    sends = [step.id for step in CATALOG.journeys[journey].steps if step.send is not None]

    funnel = _metrics(_widget(body, "Funnel by step"))

    assert funnel == [
        ("Entered", {"journey": journey}),
        *(("Sent", {"journey": journey, "step": step}) for step in sends),
        ("Completed", {"journey": journey}),
        ("ExitedEarly", {"journey": journey}),
    ]


@pytest.mark.parametrize("journey", JOURNEYS)
def test_a_dashboard_shows_sends_by_channel_and_failures_and_skips_by_reason(
    template: assertions.Template, journey: str
) -> None:
    body = _dashboard(template, journey)
    channels = {
        str(channel)
        for step in CATALOG.journeys[journey].steps
        if step.send
        for channel in step.send.channels
    }

    by_channel = _metrics(_widget(body, "Sent and delivered by channel"))
    failures = _metrics(_widget(body, "Failures, skips and holds"))

    assert {dims["channel"] for _, dims in by_channel} == channels
    assert {name for name, _ in by_channel} == {"Sent", "Delivered"}
    skipped = {dims["reason"] for name, dims in failures if name == "Skipped"}
    assert {"no_consent", "suppressed", "sales_hold", "frequency_cap", "no_address"} <= skipped
    assert {dims["reason"] for name, dims in failures if name == "Held"} >= {"quiet_hours", "outside_window"}
    assert {dims["channel"] for name, dims in failures if name == "Failed"} == channels


@pytest.mark.parametrize("journey", JOURNEYS)
def test_no_dashboard_metric_names_a_person(template: assertions.Template, journey: str) -> None:
    body = _dashboard(template, journey)
    lines = [
        metric
        for widget in body["widgets"]
        if "metrics" in widget["properties"]
        for metric in _metrics(widget["properties"])
    ]

    # the dimensions are bounded by the catalog: journey, step, channel, reason
    assert lines
    assert {key for _, dims in lines for key in dims} <= {d.value for d in Dimension}


@pytest.mark.parametrize("journey", JOURNEYS)
def test_each_journey_alarms_on_the_share_of_its_messages_that_failed(
    template: assertions.Template, journey: str
) -> None:
    defaults = DashboardsConfig()
    (alarm,) = [
        a
        for lid, a in template.find_resources("AWS::CloudWatch::Alarm").items()
        if lid.startswith(f"Dashboards{journey.replace('-', '')}FailureRate")
    ]
    properties = alarm["Properties"]
    queries = {query["Id"]: query for query in properties["Metrics"]}
    (expression,) = [q for q in queries.values() if "Expression" in q]

    assert properties["Threshold"] == defaults.failure_rate
    assert properties["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert expression["Expression"] == (
        f"IF(sent + failed >= {defaults.min_messages}, failed / (sent + failed), 0)"
    )
    for query_id, name in (("sent", "Sent"), ("failed", "Failed")):
        stat = queries[query_id]["MetricStat"]
        assert stat["Metric"]["Namespace"] == NAMESPACE
        assert stat["Metric"]["MetricName"] == name
        assert stat["Metric"]["Dimensions"] == [{"Name": "journey", "Value": journey}]
        assert stat["Stat"] == "Sum"
    assert journey in properties["AlarmDescription"]
