"""A journey's measures as Embedded Metric Format lines: bounded dimensions, one line per
metric and dimension set for a whole invocation, nothing while metrics are off."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from aws_lambda_powertools import Metrics

from baton.clock import FixedClock
from baton.figures.cloudwatch import MAX_VALUES, NAMESPACE, JourneyMetrics, Measure
from baton.figures.recorder import FiguresRecorder
from baton.timeline.repository import InMemoryTimelineRepository
from baton.timeline.service import TimelineService
from tests.figures_fakes import InMemoryFiguresRepository


@pytest.fixture
def lines(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    return []


def _documents(lines: list[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in lines]


def _sets(documents: list[dict[str, Any]]) -> dict[tuple[str, tuple[tuple[str, str], ...]], list[float]]:
    found = {}
    for document in documents:
        (directive,) = document["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == NAMESPACE
        ((name, unit),) = [(m["Name"], m["Unit"]) for m in directive["Metrics"]]
        assert unit == "Count"
        (dimensions,) = directive["Dimensions"]
        key = (name, tuple((dimension, document[dimension]) for dimension in dimensions))
        found[key] = document[name]
    return found


def test_a_send_is_counted_under_the_journey_its_step_and_its_channel(lines: list[str]) -> None:
    metrics = JourneyMetrics(write=lines.append, now_ms=lambda: 1_000)

    metrics.add(Measure.SENT, "welcome", step="hello", channel="email")
    metrics.flush()

    assert _sets(_documents(lines)) == {
        ("Sent", (("journey", "welcome"),)): [1],
        ("Sent", (("journey", "welcome"), ("step", "hello"))): [1],
        ("Sent", (("journey", "welcome"), ("channel", "email"))): [1],
    }
    assert {document["_aws"]["Timestamp"] for document in _documents(lines)} == {1_000}


def test_a_skip_is_counted_by_reason_and_a_journey_measure_by_journey_alone(lines: list[str]) -> None:
    metrics = JourneyMetrics(write=lines.append)

    metrics.add(Measure.SKIPPED, "welcome", step="hello", channel="sms", reason="no_consent")
    metrics.add(Measure.ENTERED, "welcome", step="ignored", reason="ignored")
    metrics.flush()

    assert _sets(_documents(lines)) == {
        ("Skipped", (("journey", "welcome"),)): [1],
        ("Skipped", (("journey", "welcome"), ("reason", "no_consent"))): [1],
        ("Entered", (("journey", "welcome"),)): [1],
    }


def test_an_invocation_writes_one_line_per_metric_and_set_split_at_emf_s_hundred_values(
    lines: list[str],
) -> None:
    metrics = JourneyMetrics(write=lines.append)

    for _ in range(MAX_VALUES + 50):
        metrics.add(Measure.COMPLETED, "gold-monthly")
    metrics.flush()

    documents = _documents(lines)
    assert [len(document["Completed"]) for document in documents] == [MAX_VALUES, 50]


def test_a_flush_forgets_what_it_wrote(lines: list[str]) -> None:
    metrics = JourneyMetrics(write=lines.append)
    metrics.add(Measure.CONVERTED, "welcome")
    metrics.flush()

    metrics.flush()

    assert len(lines) == 1


def test_nothing_is_written_while_metrics_are_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    written: list[str] = []
    metrics = JourneyMetrics(write=written.append)
    metrics.add(Measure.FAILED, "welcome", step="hello", channel="email")

    metrics.flush()
    metrics.flush()

    assert written == []


def test_the_figures_recorder_publishes_what_the_timeline_adds_as_the_journey_s_metrics(
    lines: list[str],
) -> None:
    at = datetime(2026, 5, 4, 15, tzinfo=UTC)
    recorder = FiguresRecorder(
        InMemoryFiguresRepository(), Metrics(namespace="Test"), journey_metrics=JourneyMetrics(lines.append)
    )
    timeline = TimelineService(InMemoryTimelineRepository(), FixedClock(at), observers=(recorder,))
    send = {"journey": "welcome", "step": "hello", "execution": "x1", "channel": "email", "template": "hi"}

    timeline.record("c1", "journey.started", {"journey": "welcome", "execution": "x1"})
    timeline.record("c1", "message.sent", send)
    timeline.record("c2", "message.refused", send | {"reason": "no_consent"})
    recorder.flush()

    published = _sets(_documents(lines))
    assert published[("Entered", (("journey", "welcome"),))] == [1]
    assert published[("Sent", (("journey", "welcome"), ("step", "hello")))] == [1]
    assert published[("Sent", (("journey", "welcome"), ("channel", "email")))] == [1]
    assert published[("Skipped", (("journey", "welcome"), ("reason", "no_consent")))] == [1]
