"""`make demo`'s scenario, run against the local stack over HTTP as a test."""

from __future__ import annotations

import pytest

from infra.demo import Demo
from infra.http_client import LocalClient

pytestmark = pytest.mark.e2e


def test_demo_scenario_runs_end_to_end_and_ends_suppressed(api: LocalClient) -> None:
    lines: list[str] = []

    Demo(api, lines.append).run()

    text = "\n".join(lines)
    assert "messages sent to Ana by this sign-up: 0" in text
    assert "consents after the upsert: 0; suppressed: email (erased)" in text
    assert "Demo finished." in text
