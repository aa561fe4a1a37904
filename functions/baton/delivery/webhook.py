"""A generic HTTPS webhook: the template's JSON object POSTed to one configured URL, signed.

Signature: `X-Baton-Signature: v1=<hex HMAC-SHA256(key, "<X-Baton-Timestamp>." + body)>`, the
timestamp in Unix seconds; a receiver recomputes it over the raw body and refuses old
timestamps. `X-Baton-Message-Id` is the same on every retry of one send (R-REL-6), so a
receiver can drop duplicates. Answers: 2xx sent; 408, 429 and 5xx, a timeout or a network
error are `ProviderUnavailable` (Step Functions retries); any other status is
`ProviderRejected`. Redirects are not followed: a signed POST goes where it was configured.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from ipaddress import ip_address
from typing import ClassVar
from urllib.parse import urlsplit

from baton.clock import Clock, SystemClock
from baton.consent.vocabulary import Channel
from baton.delivery.adapter import ChannelAdapter
from baton.delivery.exceptions import ProviderRejected, ProviderThrottled, ProviderUnavailable
from baton.delivery.message import OutboundMessage

SIGNATURE_HEADER = "X-Baton-Signature"
TIMESTAMP_HEADER = "X-Baton-Timestamp"
MESSAGE_ID_HEADER = "X-Baton-Message-Id"
SIGNATURE_VERSION = "v1"
_RETRY_LATER = frozenset({408, 425})


def signature(key: bytes, timestamp: str, body: bytes) -> str:
    """The `X-Baton-Signature` value for a body sent at `timestamp` (Unix seconds, as text)."""
    digest = hmac.new(key, timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # urllib then raises HTTPError with the 3xx status


class WebhookAdapter(ChannelAdapter):
    channel: ClassVar[Channel] = Channel.WEBHOOK
    provider: ClassVar[str] = "webhook"

    def __init__(
        self,
        url: str,
        key: Callable[[], bytes],
        *,
        timeout_seconds: float = 5.0,
        clock: Clock | None = None,
    ) -> None:
        check_url(url)
        self._url = url
        self._key = key  # read lazily: the secret is fetched on the first send, not at start-up
        self._timeout = timeout_seconds
        self._clock = clock or SystemClock()
        self._opener = urllib.request.build_opener(_NoRedirects)

    def send(self, message: OutboundMessage) -> str:
        if message.payload is None:
            raise ProviderRejected(self.provider, "NoPayload")
        body = json.dumps(dict(message.payload), ensure_ascii=False, separators=(",", ":")).encode()
        message_id = _message_id(message)
        timestamp = str(int(self._clock.now().timestamp()))
        request = urllib.request.Request(  # noqa: S310 (the URL is checked: https, or http to loopback)
            self._url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "Baton-Webhook/1",
                MESSAGE_ID_HEADER: message_id,
                TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: signature(self._key(), timestamp, body),
            },
        )
        try:
            with self._opener.open(request, timeout=self._timeout) as response:
                status = int(response.status)
        except urllib.error.HTTPError as exc:
            status = exc.code
            exc.close()
        except (OSError, http.client.HTTPException) as exc:  # URLError, timeouts, resets
            raise ProviderUnavailable(self.provider, type(exc).__name__) from exc
        _check_status(self.provider, status)
        return message_id


def check_url(url: str) -> None:
    """An https URL, or http to a loopback address (the local stack); ValueError otherwise."""
    parts = urlsplit(url)
    if not parts.hostname:
        raise ValueError("the webhook URL needs a host")
    if parts.scheme == "https":
        return
    if parts.scheme == "http" and _loopback(parts.hostname):
        return
    raise ValueError("the webhook URL must be https (http only to a loopback address)")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def _check_status(provider: str, status: int) -> None:
    if 200 <= status < 300:
        return
    if status == 429:
        raise ProviderThrottled(provider, f"HTTP{status}")
    if status >= 500 or status in _RETRY_LATER:
        raise ProviderUnavailable(provider, f"HTTP{status}")
    raise ProviderRejected(provider, f"HTTP{status}")


def _message_id(message: OutboundMessage) -> str:
    """Derived from the recipient and the tags (journey, step, execution) when there are any,
    so a retried send carries the same id; random otherwise."""
    if not message.tags:
        return str(uuid.uuid4())
    material = json.dumps({"to": message.to, "tags": dict(message.tags)}, sort_keys=True).encode()
    return str(uuid.UUID(bytes=hashlib.sha256(material).digest()[:16], version=5))
