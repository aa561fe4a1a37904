"""`make demo`'s scenario, run against the local stack over HTTP as a test."""

from __future__ import annotations

import re

import pytest

from infra.demo import Demo, FiguresDemo, JourneyDemo, RelayDemo
from infra.http_client import LocalClient

pytestmark = pytest.mark.e2e


def test_demo_scenario_runs_end_to_end_and_ends_suppressed(api: LocalClient) -> None:
    lines: list[str] = []

    Demo(api, lines.append).run()

    text = "\n".join(lines)
    assert "messages sent to Ana by this sign-up: 0" in text
    assert "consents after the upsert: 0; suppressed: email (erased)" in text
    assert "Demo finished." in text


@pytest.mark.moves_session_clock
def test_journey_demo_shows_failover_quiet_hours_sales_hold_and_duplicates(api: LocalClient) -> None:
    lines: list[str] = []

    JourneyDemo(api, lines.append).run()

    text = "\n".join(lines)
    assert "reason=no_consent" in text  # Bruno's SMS refused, then
    assert "channel=email topic=news subject=Welcome to Baton Demo Co, Bruno" in text  # email instead
    assert "reason=quiet_hours until=2026-" in text  # Carla held
    assert "Carla's journey runs: 1" in text  # the duplicate event started nothing
    assert "reason=sales_hold" in text  # Dan skipped
    assert "A tip to get started with Baton Demo Co" in text  # the wait and the window
    assert "messages to Hugo: 1" in text  # the split's short variant: the customer story at once
    assert "messages to Hilda: 0" in text  # the holdout: entered, sent nothing
    assert "Hugo: 1 conversion(s), variant story" in text  # the order converts once
    assert "Hilda: 1 conversion(s), variant holdout" in text  # the control's conversion counts too
    assert "journey.held_out" in text


@pytest.mark.moves_session_clock
def test_relay_demo_passes_the_baton_escalates_fails_over_and_times_out(api: LocalClient) -> None:
    lines: list[str] = []

    RelayDemo(api, lines.append).run()

    text = "\n".join(lines)
    assert "completing it again: HTTP 409 task_already_completed" in text
    assert "handoff.escalated" in text
    assert "outcome=handoff_timed_out" in text  # Fabio: no survey after the promise
    assert "status=failed reason=TEXT_UNREACHABLE" in text  # Erin's SMS receipt, then
    assert "email instead: 'How did we do, Erin?'" in text
    assert "wait.event_received" in text
    assert "wait.timed_out" in text  # Gabi, then the reminder
    assert "A quick question about your support request" in text


@pytest.mark.moves_session_clock  # after the journey and relay demos, whose runs it shows
def test_figures_demo_ends_with_each_journey_it_ran_as_a_table(api: LocalClient) -> None:
    lines: list[str] = []

    FiguresDemo(api, lines.append).run()

    text = "\n".join(lines)
    assert "Figures demo finished." in text
    tables = {
        match.group(1): [int(cell.replace(",", "")) for cell in match.group(2).split()]
        for match in re.finditer(r"Figures of ([a-z-]+), .*\n.*\n\s+\(journey\)\s+([\d,\s]+?)\n", text)
    }
    # entered, sent, delivered, skipped, failed, completed: what the journey and relay demos did
    assert {"welcome", "lead-nurture", "support-follow-up"} <= set(tables)
    for journey, (entered, sent, delivered, skipped, failed, completed) in tables.items():
        assert entered >= 1, journey
        assert completed <= entered, journey
        assert delivered <= sent, journey
        assert min(sent, delivered, skipped, failed) >= 0, journey
    assert tables["welcome"][0] >= 3  # Bruno, Carla, and Ana's confirmation
    assert tables["welcome"][3] >= 1  # Bruno's SMS without consent
    assert tables["support-follow-up"][1] >= 7  # acks, surveys, the reminder
    assert re.search(r"holdout\s+\d+/\d+", text)  # the nurture journey's control group
    assert "skipped by reason: sales_hold" in text  # Dan, held for his open deal
