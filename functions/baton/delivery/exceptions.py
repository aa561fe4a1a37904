"""Provider failures, decided by error code, HTTP status and exception type, never by the text
of a message.

| what happened | class | taken? | retry |
|---|---|---|---|
| throttling, HTTP 429, a used-up quota | `ProviderThrottled` | no | yes |
| the account takes nothing before a time | `ProviderHeld` | no | held until then |
| HTTP 408/425/503, ServiceUnavailable, RequestTimeout | `ProviderUnavailable` | no | yes |
| no connection (DNS, refused, connect timeout, proxy, TLS) | `ProviderUnavailable` | no | yes |
| any other 4xx, bad parameters | `ProviderRejected` | no, never | no |
| read timeout, connection closed, HTTP 500/502/504/other 5xx | `ProviderAmbiguous` | maybe | not blindly |

An ambiguous failure may have reached the provider: sending again could be a duplicate, not
sending could be a loss. The caller records it `unknown` and lets the provider's events (which
echo Baton's message id) settle it.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, ParamValidationError

from baton.aws import SERVER_FAULT_CODES, THROTTLING_CODES

if TYPE_CHECKING:
    from baton.delivery.gate import Reason

# Codes that mean "not now" (R-REL-4: retry these only): throttling and the service's own faults.
_TRANSIENT_CODES = THROTTLING_CODES | SERVER_FAULT_CODES
# Codes with which the service says it did not take the request (it was refused at the door
# or never read in full): safe to send again. Every other 5xx is of unknown effect.
_NOT_TAKEN_CODES = THROTTLING_CODES | frozenset(
    {"ServiceUnavailable", "ServiceUnavailableException", "RequestTimeout", "RequestTimeoutException"}
)
# 408: the request was not read in full; 425: too early to process it; 429 and 503: refused.
_NOT_TAKEN_STATUSES = frozenset({408, 425, 429, 503})


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


class ProviderHeld(ProviderUnavailable):
    """The provider's account takes nothing before `until` (SES sending paused, its 24-hour
    quota used up: R-SES-1). Checked before the provider is called, so nothing was sent: the
    dispatcher records a hold, and the send is decided again at `until`. A caller that does
    not know holds sees a retryable failure."""

    def __init__(self, provider: str, reason: Reason, *, until: datetime, rule: str) -> None:
        super().__init__(provider, str(reason))
        self.reason = reason
        self.until = until
        self.rule = rule


class ProviderAmbiguous(DeliveryError):
    """The request may have reached the provider, but no answer says whether it took the
    message (a read timeout, a connection closed after sending, a 5xx of unknown effect)."""


def translate(exc: ClientError | BotoCoreError, provider: str) -> DeliveryError:
    """The `DeliveryError` for an exception raised by a boto3 call (use with `raise ... from exc`)."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", "Unknown"))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        if code in THROTTLING_CODES or status == 429:
            return ProviderThrottled(provider, code, str(error.get("Message", "")))
        if code in _NOT_TAKEN_CODES or status in _NOT_TAKEN_STATUSES:
            return ProviderUnavailable(provider, code, str(error.get("Message", "")))
        if code in _TRANSIENT_CODES or status >= 500:
            return ProviderAmbiguous(provider, code, str(error.get("Message", "")))
        return ProviderRejected(provider, code, str(error.get("Message", "")))
    if isinstance(exc, ParamValidationError):
        return ProviderRejected(provider, "ParamValidation", str(exc))
    if isinstance(exc, ConnectionError):
        # The connection was never made (refused, connect timeout, proxy, TLS): nothing was sent.
        return ProviderUnavailable(provider, type(exc).__name__)
    # A read timeout, a connection closed mid-answer, any other transport fault after the
    # request may have gone out (after the SDK's own retries): the provider may have it.
    return ProviderAmbiguous(provider, type(exc).__name__)


def for_status(provider: str, status: int) -> DeliveryError:
    """The `DeliveryError` for a provider's HTTP answer other than 2xx (an HTTPS endpoint Baton
    posts to itself): only the statuses that say the request was not processed are retried."""
    code = f"HTTP{status}"
    if status == 429:
        return ProviderThrottled(provider, code)
    if status in _NOT_TAKEN_STATUSES:
        return ProviderUnavailable(provider, code)
    if status >= 500:
        # 500, 502, 504 and any unknown 5xx: the receiver (or a gateway before it) may have
        # processed the request before failing to answer.
        return ProviderAmbiguous(provider, code)
    return ProviderRejected(provider, code)
