"""Shared by every layer of tests."""

from __future__ import annotations

import pytest

from baton import bootstrap


@pytest.fixture(autouse=True)
def _empty_metric_buffer() -> None:
    """Every Powertools Metrics shares one buffer, which only a flush empties: each test starts
    with it empty, whatever ran before it."""
    bootstrap.metrics.clear_metrics()
