"""A generic HTTPS webhook: the template's JSON object POSTed to one configured URL, signed.

Signature: `X-Baton-Signature: v1=<hex HMAC-SHA256(key, "<X-Baton-Timestamp>." + body)>`, the
timestamp in Unix seconds; a receiver recomputes it over the raw body and refuses old
timestamps. `X-Baton-Message-Id` is the same on every retry of one send (R-REL-6), so a
receiver can drop duplicates. Redirects are not followed: a signed POST goes where it was
configured.

What happened decides whether sending again is safe (the table of `baton.delivery.exceptions`):

| what happened | class |
|---|---|
| 2xx | sent |
| no connection (DNS, refused, connect timeout, TLS); the request not sent in full | `ProviderUnavailable` |
| 408, 425, 503 (not processed); 429 | `ProviderUnavailable`, `ProviderThrottled` |
| sent, then no complete answer: read timeout, reset, closed mid-answer | `ProviderAmbiguous` |
| 500, 502, 504, any other 5xx | `ProviderAmbiguous` |
| any other status, the signing key unreadable for good | `ProviderRejected` |

An ambiguous send may have reached the receiver: it is recorded `unknown`, not sent again
(unless the step opts into at least once, when the same message id lets the receiver dedupe).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import ssl
import uuid
from collections.abc import Callable, Mapping
from ipaddress import ip_address
from typing import ClassVar
from urllib.parse import urlsplit

from baton import aws
from baton.clock import Clock, SystemClock
from baton.consent.vocabulary import Channel
from baton.delivery.adapter import ChannelAdapter
from baton.delivery.exceptions import ProviderAmbiguous, ProviderRejected, ProviderUnavailable, for_status
from baton.delivery.message import OutboundMessage

SIGNATURE_HEADER = "X-Baton-Signature"
TIMESTAMP_HEADER = "X-Baton-Timestamp"
MESSAGE_ID_HEADER = "X-Baton-Message-Id"
SIGNATURE_VERSION = "v1"


def signature(key: bytes, timestamp: str, body: bytes) -> str:
    """The `X-Baton-Signature` value for a body sent at `timestamp` (Unix seconds, as text)."""
    digest = hmac.new(key, timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"


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

    def send(self, message: OutboundMessage) -> str:
        if message.payload is None:
            raise ProviderRejected(self.provider, "NoPayload")
        body = json.dumps(dict(message.payload), ensure_ascii=False, separators=(",", ":")).encode()
        message_id = _message_id(message)
        timestamp = str(int(self._clock.now().timestamp()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Baton-Webhook/1",
            MESSAGE_ID_HEADER: message_id,
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature(self._signing_key(), timestamp, body),
        }
        status = self._post(body, headers)
        if not 200 <= status < 300:
            raise for_status(self.provider, status)
        return message_id

    def _signing_key(self) -> bytes:
        try:
            return self._key()
        except Exception as exc:
            # Nothing was posted yet: a secret that is throttled or briefly unreachable is
            # retried; one that cannot be read at all fails this channel (the next one is tried).
            if aws.is_retryable_aws_error(exc):
                raise ProviderUnavailable(self.provider, "SigningKeyUnavailable") from exc
            raise ProviderRejected(self.provider, "SigningKeyUnreadable") from exc

    def _post(self, body: bytes, headers: Mapping[str, str]) -> int:
        """The receiver's status. Whether a failure came before the whole request was sent or
        after decides whether the receiver may have the message."""
        parts = urlsplit(self._url)
        connection = _connection(parts.scheme, parts.hostname or "", parts.port, self._timeout)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            try:
                connection.connect()  # DNS, refused, connect timeout, TLS: nothing has left
                connection.request("POST", target, body=body, headers=dict(headers))
            except (OSError, http.client.HTTPException) as exc:
                # Not connected, or the request not sent in full: no receiver can act on it.
                raise ProviderUnavailable(self.provider, type(exc).__name__) from exc
            try:
                return int(connection.getresponse().status)
            except (OSError, http.client.HTTPException) as exc:
                # The whole request went out: a read timeout, a reset or a connection closed
                # before a complete answer says nothing about whether the receiver took it.
                raise ProviderAmbiguous(self.provider, type(exc).__name__) from exc
        finally:
            connection.close()


def _connection(scheme: str, host: str, port: int | None, timeout: float) -> http.client.HTTPConnection:
    # http.client follows no redirects: a 3xx is an answer like any other (rejected).
    if scheme == "https":
        return http.client.HTTPSConnection(host, port, timeout=timeout, context=ssl.create_default_context())
    return http.client.HTTPConnection(host, port, timeout=timeout)


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


def _message_id(message: OutboundMessage) -> str:
    """Derived from the recipient and the tags (journey, step, execution) when there are any,
    so a retried send carries the same id; random otherwise."""
    if not message.tags:
        return str(uuid.uuid4())
    material = json.dumps({"to": message.to, "tags": dict(message.tags)}, sort_keys=True).encode()
    return str(uuid.UUID(bytes=hashlib.sha256(material).digest()[:16], version=5))
