"""Which AWS failures of Baton's own calls are worth a retry (`baton.aws.is_retryable_aws_error`)."""

from __future__ import annotations

import pytest
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
    ReadTimeoutError,
)

from baton.aws import is_retryable_aws_error
from baton.runner.exceptions import TaskFailed, reported_by_type


def _client_error(code: str, status: int) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": "x"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "GetItem"
    )


@pytest.mark.parametrize(
    "error",
    [
        _client_error("ThrottlingException", 400),
        _client_error("ProvisionedThroughputExceededException", 400),
        _client_error("RequestLimitExceeded", 400),
        _client_error("InternalServerError", 500),
        _client_error("SomethingNew", 503),
        _client_error("SlowDownPlease", 429),
        EndpointConnectionError(endpoint_url="https://dynamodb"),
        ConnectTimeoutError(endpoint_url="https://dynamodb"),
        ReadTimeoutError(endpoint_url="https://dynamodb"),
    ],
)
def test_throttling_service_faults_and_lost_connections_are_retryable(error: Exception) -> None:
    assert is_retryable_aws_error(error)


@pytest.mark.parametrize(
    "error",
    [
        _client_error("ValidationException", 400),
        _client_error("ResourceNotFoundException", 400),
        _client_error("AccessDeniedException", 400),
        ParamValidationError(report="bad"),
        NoCredentialsError(),
        KeyError("contact_id"),
    ],
)
def test_refused_requests_and_programming_errors_are_not_retryable(error: Exception) -> None:
    assert not is_retryable_aws_error(error)


def _wrapped(cause: Exception) -> GetParameterError:
    """What Powertools raises for a failed secret read: its own error, the cause as context."""
    try:
        raise cause
    except Exception as exc:
        try:
            raise GetParameterError(str(exc))  # implicit chaining, as Powertools does
        except GetParameterError as wrapped:
            return wrapped


def test_a_secret_read_throttled_behind_powertools_is_retryable_but_a_missing_secret_is_not() -> None:
    assert is_retryable_aws_error(_wrapped(_client_error("ThrottlingException", 400)))
    assert not is_retryable_aws_error(_wrapped(_client_error("ResourceNotFoundException", 400)))


def test_a_task_whose_own_aws_call_throttled_reports_the_retried_error_by_type_only() -> None:
    with pytest.raises(Exception) as raised, reported_by_type():  # noqa: PT011 (the class is dotted)
        raise _client_error("ThrottlingException", 400)

    assert type(raised.value).__name__ == "Baton.AwsUnavailable"
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__


def test_a_task_that_hit_a_programming_error_still_fails_without_a_retry() -> None:
    with pytest.raises(TaskFailed), reported_by_type():
        raise _client_error("ValidationException", 400)
