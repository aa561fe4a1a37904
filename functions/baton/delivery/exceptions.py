"""Provider failures, decided by error code and HTTP status, never by the text of a message.

`ProviderUnavailable` may succeed later (throttling, 5xx, network); `ProviderRejected` will
not (the provider refused this message or this configuration).
"""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

# Codes that mean "slow down" across the services Baton calls.
_THROTTLING_CODES = frozenset(
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
# Codes that mean "not now" (R-REL-4: retry these only): throttling and the service's own faults.
_TRANSIENT_CODES = _THROTTLING_CODES | frozenset(
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


class DeliveryError(Exception):
    """A send did not reach the provider's queue. `code` is the provider's error code."""

    retryable = False

    def __init__(self, provider: str, code: str, message: str = "") -> None:
        super().__init__(f"{provider}: {code}" + (f": {message}" if message else ""))
        self.provider = provider
        self.code = code


class ProviderRejected(DeliveryError):
    """The provider refused the message; sending it again will not help."""


class ProviderUnavailable(DeliveryError):
    """The provider could not take the message now; a later attempt may succeed."""

    retryable = True


class ProviderThrottled(ProviderUnavailable):
    """The provider asked Baton to slow down (throttling, HTTP 429, a used-up quota)."""


def translate(exc: ClientError | BotoCoreError, provider: str) -> DeliveryError:
    """The `DeliveryError` for an exception raised by a boto3 call (use with `raise ... from exc`)."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", "Unknown"))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        if code in _THROTTLING_CODES or status == 429:
            return ProviderThrottled(provider, code, str(error.get("Message", "")))
        if code in _TRANSIENT_CODES or status >= 500:
            return ProviderUnavailable(provider, code, str(error.get("Message", "")))
        return ProviderRejected(provider, code, str(error.get("Message", "")))
    if isinstance(exc, ParamValidationError):
        return ProviderRejected(provider, "ParamValidation", str(exc))
    # Connection errors and timeouts (after the SDK's own retries): try again later.
    return ProviderUnavailable(provider, type(exc).__name__)
