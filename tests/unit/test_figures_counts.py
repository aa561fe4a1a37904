"""The figures: what each timeline event counts, percentiles from buckets, the z-test, and
coalescing many events into one write per item."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from aws_lambda_powertools import Metrics

from baton.clock import FixedClock
from baton.delivery.gate import Reason
from baton.figures.exceptions import InvalidSpan
from baton.figures.projection import (
    HOLDOUT,
    NONE,
    FigureKey,
    percentile,
    project,
    ttc_bucket,
)
from baton.figures.recorder import METRIC_NOT_RECORDED, FiguresRecorder
from baton.figures.service import FiguresService, span, two_proportion_z_test
from baton.timeline.models import TimelineEvent
from baton.timeline.repository import InMemoryTimelineRepository
from baton.timeline.service import TimelineService
from tests.figures_fakes import InMemoryFiguresRepository

AT = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
DAY = AT.date()
SEND = {"journey": "welcome", "step": "hello", "execution": "x1", "channel": "email", "template": "hi"}


def event(kind: str, detail: dict[str, Any], at: datetime = AT, contact: str = "c1") -> TimelineEvent:
    return TimelineEvent(
        contact_id=contact, event_id=f"{kind}-{at.isoformat()}", kind=kind, at=at, detail=detail
    )


def counted(kind: str, detail: dict[str, Any]) -> list[tuple[FigureKey, str, str | None]]:
    return [(i.key, i.counter, i.template) for i in project(event(kind, detail))]


@pytest.mark.parametrize(
    ("kind", "detail", "key_step", "counter"),
    [
        ("journey.started", {"journey": "welcome", "execution": "x1"}, NONE, "entered|-|-"),
        ("journey.exited", {"journey": "welcome", "event": "order.cancelled"}, NONE, "exited|-|-"),
        ("journey.converted", {"journey": "welcome", "event": "order.placed"}, NONE, "converted|-|-"),
        ("journey.completed", {"journey": "welcome", "step": "hello"}, "hello", "completed|-|-"),
        ("journey.completed", {"journey": "welcome"}, NONE, "completed|-|-"),
        ("journey.failed", {"journey": "welcome", "step": "hello", "error": "X"}, "hello", "errors|-|-"),
        (
            "journey.ended",
            {"journey": "welcome", "step": "hello", "outcome": "skipped"},
            "hello",
            "ended.skipped|-|-",
        ),
        (
            "journey.ended",
            {"journey": "welcome", "step": "hello", "outcome": "failed"},
            "hello",
            "ended.failed|-|-",
        ),
        ("message.sent", SEND, "hello", "sent|email|-"),
        ("message.failed", SEND | {"error_code": "MessageRejected"}, "hello", "failed|email|-"),
        ("message.unknown", SEND | {"error_code": "ReadTimeout"}, "hello", "unknown|email|-"),
        ("delivery.event", SEND | {"status": "delivered"}, "hello", "delivered|email|-"),
        ("delivery.event", SEND | {"status": "bounced"}, "hello", "bounced|email|-"),
        ("delivery.event", SEND | {"status": "complained"}, "hello", "complained|email|-"),
        ("delivery.event", SEND | {"status": "failed"}, "hello", "undelivered|email|-"),
        ("delivery.event", SEND | {"status": "opened"}, "hello", "opened|email|-"),
        ("delivery.event", SEND | {"status": "clicked"}, "hello", "clicked|email|-"),
        ("delivery.timed_out", SEND | {"status": "failed"}, "hello", "no_receipt|email|-"),
        ("journey.not_admitted", {"journey": "welcome", "reason": "review_overdue"}, "-", "not_admitted|-|-"),
    ],
)
def test_each_journey_and_message_kind_adds_its_counter(
    kind: str, detail: dict[str, Any], key_step: str, counter: str
) -> None:
    [(key, name, _)] = counted(kind, detail)
    assert key == FigureKey("journey#welcome", f"2026-05-01#{key_step}")
    assert name == counter


@pytest.mark.parametrize("reason", [str(reason) for reason in Reason if reason != Reason.ALLOWED])
def test_every_gate_reason_is_a_skip_and_a_hold_by_that_reason(reason: str) -> None:
    assert counted("message.refused", SEND | {"reason": reason})[0][1] == f"skipped.{reason}|email|-"
    assert counted("message.held", SEND | {"reason": reason})[0][1] == f"held.{reason}|email|-"


def test_a_send_keeps_its_template_beside_its_counters() -> None:
    assert counted("message.sent", SEND)[0][2] == "hi"


def test_events_of_no_journey_and_other_kinds_count_nothing() -> None:
    assert counted("message.sent", {"channel": "sms", "purpose": "help_reply"}) == []
    assert counted("contact.created", {"fields": ["email"]}) == []
    assert counted("journey.step", {"journey": "welcome", "step": "route", "next": "end"}) == []


def test_a_variant_is_kept_with_every_counter_and_a_split_assigns_it() -> None:
    assert counted("message.sent", SEND | {"variant": "short"})[0][1] == "sent|email|short"
    assert counted("journey.started", {"journey": "welcome", "variant": HOLDOUT})[0][1] == "entered|-|holdout"
    assert counted("journey.converted", {"journey": "welcome", "variant": "long"})[0][1] == "converted|-|long"
    split = counted("journey.split", {"journey": "welcome", "step": "test", "variant": "long", "next": "b"})
    assert split == [(FigureKey("journey#welcome", "2026-05-01#test"), "assigned|-|long", None)]
    # a branch after the split carries the run's variant too: the contact is assigned once
    assert counted("journey.step", {"journey": "welcome", "step": "route", "variant": "long"}) == []


def test_an_unsubscribe_counts_against_the_last_message_received_on_that_channel() -> None:
    revoked = {
        "channel": "email",
        "topic": "news",
        "status": "revoked",
        "previous_status": "granted",
        "source": "link",
    }
    sent = event("message.sent", SEND | {"variant": "short"}, at=AT - timedelta(days=2))
    later = AT + timedelta(days=1)
    [increment] = project(event("consent.changed", revoked, at=later), sent)
    assert increment.key == FigureKey("journey#welcome", "2026-05-02#hello")
    assert increment.counter == "unsubscribed|email|short"
    assert project(event("consent.changed", revoked), None) == []  # nothing it answers
    complaint = revoked | {"source": "complaint"}  # counted as the complaint it is
    assert project(event("consent.changed", complaint), sent) == []
    granted = revoked | {"status": "granted", "previous_status": None}
    assert project(event("consent.changed", granted), sent) == []


def test_the_recorder_finds_the_send_an_unsubscribe_answers_on_the_timeline() -> None:
    repository = InMemoryFiguresRepository()
    timeline_events = InMemoryTimelineRepository()
    recorder = FiguresRecorder(
        repository, Metrics(namespace="Test"), recent=lambda c, n: timeline_events.newest(c, n)
    )
    timeline = TimelineService(timeline_events, FixedClock(AT), observers=(recorder,))
    timeline.record("c1", "message.sent", SEND | {"channel": "sms"}, at=AT - timedelta(hours=2))
    timeline.record("c1", "message.sent", SEND, at=AT - timedelta(hours=1))
    timeline.record(
        "c1",
        "consent.changed",
        {
            "channel": "sms",
            "topic": "news",
            "status": "revoked",
            "previous_status": "granted",
            "source": "keyword",
        },
    )
    recorder.flush()
    [item] = repository.items("journey#welcome", "2026-05-01", "2026-05-01#~")
    assert item.counters == {"sent|sms|-": 1, "sent|email|-": 1, "unsubscribed|sms|-": 1}


@pytest.mark.parametrize(
    ("kind", "counter"),
    [
        ("handoff.created", "created|-|-"),
        ("handoff.escalated", "escalated|-|-"),
        ("handoff.timed_out", "timed_out|-|-"),
    ],
)
def test_hand_offs_count_per_queue(kind: str, counter: str) -> None:
    [(key, name, _)] = counted(kind, {"queue": "support-agents", "journey": "welcome", "step": "agent"})
    assert key == FigureKey("queue#support-agents", "2026-05-01")
    assert name == counter


def test_a_completed_hand_off_counts_its_time_to_complete_in_a_bucket_and_whether_late() -> None:
    detail = {
        "queue": "support-agents",
        "created_at": (AT - timedelta(minutes=40)).isoformat(),
        "due_at": (AT - timedelta(minutes=10)).isoformat(),
    }
    names = [name for _, name, _ in counted("handoff.completed", detail)]
    assert names == ["completed|-|-", "ttc.3600|-|-", "late|-|-"]
    assert ttc_bucket(300) == "ttc.300"
    assert ttc_bucket(301) == "ttc.900"
    assert ttc_bucket(10**7) == "ttc.over"


def test_percentiles_come_from_the_bucket_counts() -> None:
    buckets = {"ttc.300": 10, "ttc.3600": 30, "ttc.86400": 50, "ttc.over": 10}
    assert percentile(buckets, 0.5) == 86400  # 10 + 30 < 50 <= 10 + 30 + 50
    assert percentile(buckets, 0.4) == 3600
    assert percentile(buckets, 0.1) == 300
    assert percentile(buckets, 0.95) is None  # beyond the last bound
    assert percentile({}, 0.5) is None


def test_the_z_test_matches_a_worked_example() -> None:
    # 45/100 against 30/100: pooled 0.375, z = 0.15 / sqrt(0.375 * 0.625 * 0.02) = 2.1909,
    # two-sided p = 2 * (1 - Phi(2.1909)) = 0.02846 (normal table: Phi(2.19) = 0.98574).
    assert two_proportion_z_test(45, 100, 30, 100) == pytest.approx(0.02846, abs=5e-5)
    assert two_proportion_z_test(50, 100, 50, 100) == pytest.approx(1.0)
    assert two_proportion_z_test(1, 0, 1, 10) is None
    assert two_proportion_z_test(0, 10, 0, 10) is None  # nothing differs to test


def test_a_journeys_last_send_and_its_completion_are_one_write() -> None:
    repository = InMemoryFiguresRepository()
    recorder = FiguresRecorder(repository, Metrics(namespace="Test"))
    timeline = TimelineService(InMemoryTimelineRepository(), FixedClock(AT), observers=(recorder,))
    timeline.record("c1", "message.sent", SEND)
    timeline.record("c1", "journey.completed", {"journey": "welcome", "step": "hello", "execution": "x1"})
    assert recorder.flush() == 1
    assert repository.writes == 1
    [item] = repository.items_by_key.values()
    assert item.counters == {"sent|email|-": 1, "completed|-|-": 1}
    assert item.template == "hi"


def test_a_hundred_contacts_of_a_batch_fall_on_a_few_writes() -> None:
    repository = InMemoryFiguresRepository()
    recorder = FiguresRecorder(repository, Metrics(namespace="Test"))
    timeline = TimelineService(InMemoryTimelineRepository(), FixedClock(AT), observers=(recorder,))
    for n in range(100):
        timeline.record(f"c{n}", "journey.started", {"journey": "welcome", "execution": f"x{n}"})
        timeline.record(f"c{n}", "message.sent", SEND)
        timeline.record(f"c{n}", "journey.completed", {"journey": "welcome", "step": "hello"})
    assert recorder.flush() == 2  # the journey's own item and the step's
    assert repository.items_by_key[FigureKey.journey("welcome", DAY, "hello")].counters == {
        "sent|email|-": 100,
        "completed|-|-": 100,
    }


def test_a_failing_figures_write_is_retried_once_and_counted_never_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    metrics = Metrics(namespace="Test")
    flaky = InMemoryFiguresRepository(failures=1)
    recorder = FiguresRecorder(flaky, metrics)
    recorder.observed(event("message.sent", SEND))
    assert recorder.flush() == 1  # the second try wrote it
    assert flaky.items_by_key[FigureKey.journey("welcome", DAY, "hello")].counters == {"sent|email|-": 1}
    down = InMemoryFiguresRepository(failures=2)
    recorder = FiguresRecorder(down, metrics)
    recorder.observed(event("message.sent", SEND))
    assert recorder.flush() == 0
    assert down.items_by_key == {}
    assert recorder.pending == 0  # logged with its key and counters, not kept
    assert metrics.metric_set[METRIC_NOT_RECORDED]["Value"] == [1.0, 1.0, 1.0]


def test_a_journeys_figures_read_by_step_channel_day_and_variant_against_the_holdout() -> None:
    repository = InMemoryFiguresRepository()
    recorder = FiguresRecorder(repository, Metrics(namespace="Test"))
    timeline = TimelineService(InMemoryTimelineRepository(), FixedClock(AT), observers=(recorder,))
    groups = {"short": (100, 45), "long": (100, 35), HOLDOUT: (100, 30)}
    for variant, (entered, converted) in groups.items():
        for n in range(entered):
            timeline.record(f"{variant}{n}", "journey.started", {"journey": "welcome", "variant": variant})
            if variant != HOLDOUT:
                timeline.record(f"{variant}{n}", "message.sent", SEND | {"variant": variant})
            if n < converted:
                timeline.record(
                    f"{variant}{n}", "journey.converted", {"journey": "welcome", "variant": variant}
                )
    timeline.record("short0", "delivery.event", SEND | {"status": "delivered"}, at=AT + timedelta(days=1))
    recorder.flush()
    figures = FiguresService(repository).journey("welcome", date(2026, 4, 1), date(2026, 5, 30), ["hello"])
    assert figures.totals == {"entered": 300, "sent": 200, "converted": 110, "delivered": 1}
    assert figures.rates["delivered"] == pytest.approx(1 / 200)
    assert [step.step for step in figures.steps] == [NONE, "hello"]
    assert figures.steps[1].template == "hi"
    assert figures.channels == {"email": {"sent": 200, "delivered": 1}}
    assert [day.day for day in figures.days] == [DAY, DAY + timedelta(days=1)]
    assert figures.holdout is not None
    assert figures.holdout.conversion_rate == pytest.approx(0.30)
    short = next(v for v in figures.variants if v.variant == "short")
    assert short.conversion_rate == pytest.approx(0.45)
    assert short.lift == pytest.approx(0.5)
    assert short.p_value == pytest.approx(0.02846, abs=5e-5)
    assert (short.test, short.compared_with) == ("two-proportion z-test", "holdout")
    answer = figures.model_dump(mode="json")
    assert answer["from"] == "2026-04-01"
    assert answer["to"] == "2026-05-30"


def test_a_queues_figures_give_p50_and_p90_time_to_complete() -> None:
    repository = InMemoryFiguresRepository()
    recorder = FiguresRecorder(repository, Metrics(namespace="Test"))
    for minutes in [3] * 5 + [20] * 4 + [600]:
        created = AT - timedelta(minutes=minutes)
        detail = {
            "queue": "agents",
            "created_at": created.isoformat(),
            "due_at": (AT + timedelta(hours=1)).isoformat(),
        }
        recorder.observed(event("handoff.created", {"queue": "agents"}, at=created))
        recorder.observed(event("handoff.completed", detail))
    recorder.observed(event("handoff.timed_out", {"queue": "agents"}))
    recorder.flush()
    figures = FiguresService(repository).queue("agents", DAY, DAY)
    assert (figures.created, figures.completed, figures.timed_out, figures.late) == (10, 10, 1, 0)
    assert figures.time_to_complete_p50_s == 300
    assert figures.time_to_complete_p90_s == 1800
    assert figures.completed_in_time_rate == pytest.approx(10 / 11)


@pytest.mark.parametrize(
    ("first", "last", "field"),
    [
        ("2026-13-01", None, "from"),
        (None, "May 1", "to"),
        ("2026-05-02", "2026-05-01", "from"),
        ("2025-01-01", "2026-05-01", "to"),
    ],
)
def test_a_bad_span_names_its_field(first: str | None, last: str | None, field: str) -> None:
    with pytest.raises(InvalidSpan) as raised:
        span(first, last, DAY)
    assert raised.value.field == field


def test_the_default_span_is_the_last_30_days() -> None:
    assert span(None, None, DAY) == (DAY - timedelta(days=29), DAY)


def test_a_split_without_a_holdout_tests_each_variant_against_the_others() -> None:
    repository = InMemoryFiguresRepository()
    recorder = FiguresRecorder(repository, Metrics(namespace="Test"))
    timeline = TimelineService(InMemoryTimelineRepository(), FixedClock(AT), observers=(recorder,))
    for variant, (entered, converted) in {"short": (100, 45), "long": (100, 30)}.items():
        for n in range(entered):
            timeline.record(f"{variant}{n}", "journey.started", {"journey": "welcome", "variant": variant})
            if n < converted:
                timeline.record(
                    f"{variant}{n}", "journey.converted", {"journey": "welcome", "variant": variant}
                )
    recorder.flush()

    figures = FiguresService(repository).journey("welcome", DAY, DAY)

    assert figures.holdout is None
    short, long_ = sorted(figures.variants, key=lambda v: v.variant, reverse=True)
    assert (short.variant, long_.variant) == ("short", "long")
    # 45/100 against 30/100: the same pooled test both ways, so the same p-value
    assert short.p_value == long_.p_value == pytest.approx(0.02846, abs=5e-5)
    assert short.compared_with == long_.compared_with == "other variants"
    assert short.lift is None  # lift is against a control group, and there is none
    assert short.test == "two-proportion z-test"


def test_a_lone_variant_without_a_holdout_has_nothing_to_be_tested_against() -> None:
    repository = InMemoryFiguresRepository()
    recorder = FiguresRecorder(repository, Metrics(namespace="Test"))
    timeline = TimelineService(InMemoryTimelineRepository(), FixedClock(AT), observers=(recorder,))
    timeline.record("a", "journey.started", {"journey": "welcome", "variant": "short"})
    recorder.flush()

    (only,) = FiguresService(repository).journey("welcome", DAY, DAY).variants

    assert (only.p_value, only.test, only.compared_with) == (None, None, None)
