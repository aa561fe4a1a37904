"""End-to-end tests: HTTP against the local stack (the synthesized template deployed into moto,
handlers in-process), started once per test session on a free port.

The local stack keeps moto active until the session ends, and moto is process-wide: a test
elsewhere that opens its own `mock_aws()` meanwhile would see this stack's resources and keep
its own (nested mocks do not reset). So e2e tests run last.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from infra.demo import START
from infra.http_client import LocalClient
from infra.local import LocalStack
from infra.local.clock import VirtualClock
from infra.local.stack import synthesize_template


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "moves_session_clock: advances the session stack's virtual clock (runs after every other test)",
    )
    config.addinivalue_line(
        "markers",
        "ends_session_clock: moves the session stack's clock months on, past the sample journeys'"
        " review dates (runs last)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Move e2e tests after every other test, those that move the session stack's clock (time
    only goes forward) after the rest, and the one that moves it past the sample review dates
    (closing a marketing journey) last; a stable sort keeps their own order."""
    items.sort(
        key=lambda item: (
            item.get_closest_marker("e2e") is not None,
            item.get_closest_marker("moves_session_clock") is not None
            or item.get_closest_marker("ends_session_clock") is not None,
            item.get_closest_marker("ends_session_clock") is not None,
        )
    )


@pytest.fixture(scope="session")
def synthesized_template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The CDK app's template, synthesized once per session (without bundling)."""
    return synthesize_template(tmp_path_factory.mktemp("cdk.out"))


@pytest.fixture(scope="session")
def local_stack(synthesized_template: dict[str, Any]) -> Iterator[LocalStack]:
    # The demo's first day, not today: the sample journeys' review dates stay ahead of it.
    stack = LocalStack(synthesized_template, clock=VirtualClock(START))
    began = time.perf_counter()
    stack.start(port=0)
    print(f"\nlocal stack up in {time.perf_counter() - began:.2f} s at {stack.base_url}")
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def api(local_stack: LocalStack) -> LocalClient:
    """An HTTP client for the session's local stack, sending its bearer token by default."""
    return LocalClient(local_stack.base_url, local_stack.token)


@pytest.fixture
def sfn() -> Any:
    """A Step Functions client for the local stacks (moto, in this process)."""
    return boto3.client("stepfunctions", region_name="us-east-1")


@pytest.fixture
def ses_quota_used_up(local_stack: LocalStack) -> Iterator[LocalStack]:
    """The session stack's SES account with its 24-hour quota used up (R-SES-1) until the test
    gives it room (`ses_account.sent_before = 0`) or ends."""
    local_stack.ses_account.sent_before = int(local_stack.ses_account.max_24_hour_send)
    try:
        yield local_stack
    finally:
        local_stack.ses_account.sent_before = 0
