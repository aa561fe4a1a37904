"""`make demo`'s scenario, run against the local stack over HTTP as a test."""

from __future__ import annotations

import pytest

from infra.demo import Demo, JourneyDemo
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
