"""One cached factory for boto3 clients and resources, so nothing touches AWS at import time."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

# R-REL-4: AWS SDK retries with capped exponential backoff and full jitter ("standard" mode).
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=10)


@cache
def client(service: str) -> Any:
    return boto3.client(service, config=_CONFIG)  # type: ignore[call-overload]


# R-REL-4, one retry layer: a journey's delivery calls are retried by Step Functions (backoff
# with full jitter), so their clients make exactly one attempt.
_DELIVERY_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=3, read_timeout=10
)


@cache
def delivery_client(service: str) -> Any:
    """A client for a journey's sends: no SDK retries (Step Functions retries the task)."""
    return boto3.client(service, config=_DELIVERY_CONFIG)  # type: ignore[call-overload]


@cache
def dynamodb_resource() -> Any:
    return boto3.resource("dynamodb", config=_CONFIG)


def reset() -> None:
    """Forget cached clients (tests and the local stack switch AWS endpoints)."""
    client.cache_clear()
    delivery_client.cache_clear()
    dynamodb_resource.cache_clear()
