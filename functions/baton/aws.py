"""One cached factory for boto3 clients and resources, so nothing touches AWS at import time."""

from __future__ import annotations

from functools import cache
from typing import Any, Final

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

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


# Codes that mean "slow down" across the services Baton calls.
THROTTLING_CODES: Final = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceededException",
        "RequestThrottled",
        "SlowDown",
        "LimitExceededException",  # SES v2 SendEmail: the sending quota is used up for now
        "KMSThrottling",
        "KMSThrottlingException",
    }
)
# Codes with which a service says it failed on its side (R-REL-4: these and throttling only).
SERVER_FAULT_CODES: Final = frozenset(
    {
        "InternalError",
        "InternalFailure",
        "InternalErrorException",
        "InternalServerError",
        "InternalServerException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)


def error_code(exc: ClientError) -> str:
    """The AWS error code of a refused call (`ConditionalCheckFailedException`, `404`, ...)."""
    return str(exc.response.get("Error", {}).get("Code", ""))


def is_retryable_aws_error(exc: BaseException) -> bool:
    """True when `exc`, or an error it was raised from, is an AWS call that throttled, failed on
    the service's side (5xx) or lost its connection: the same call later may well succeed. A
    refused request (validation, a missing resource, access denied) is not: it fails again."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ClientError):
            error = current.response.get("Error", {})
            code = str(error.get("Code", ""))
            status = int(current.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
            return code in THROTTLING_CODES or code in SERVER_FAULT_CODES or status == 429 or status >= 500
        if isinstance(current, ConnectionError | HTTPClientError):
            return True  # no connection, a read timeout, a connection closed mid-answer
        # Wrapped on the way up (a repository's own error, Powertools' GetParameterError).
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    return False


def reset() -> None:
    """Forget cached clients (tests and the local stack switch AWS endpoints)."""
    client.cache_clear()
    delivery_client.cache_clear()
    dynamodb_resource.cache_clear()
