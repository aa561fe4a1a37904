"""The webhook channel against a real HTTP server on 127.0.0.1: a signed JSON POST, and the
receiver's answer decides sent, rejected (4xx), unavailable (not processed: 408, 429, 503, no
connection) or ambiguous (the request went out and no complete answer came back, or a 5xx of
unknown effect)."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from botocore.exceptions import ClientError

from baton.clock import FixedClock
from baton.delivery.exceptions import (
    ProviderAmbiguous,
    ProviderRejected,
    ProviderThrottled,
    ProviderUnavailable,
)
from baton.delivery.message import OutboundMessage, Purpose
from baton.delivery.webhook import WebhookAdapter, check_url

KEY = b"webhook-test-key"
NOW = datetime(2026, 5, 4, 15, tzinfo=UTC)
TAGS = {"journey": "order-shipped", "step": "notify", "execution": "arn:aws:states:::execution:x:y"}


@dataclass
class Receiver:
    """What the test endpoint saw, and what it answers next."""

    base: str = ""
    status: int = 204
    # Answer only once the test is over: by then the sender has long given up, however slowly
    # this machine runs either side.
    hold: bool = False
    released: threading.Event = field(default_factory=threading.Event)
    # After reading the whole request: "reset" aborts the connection (TCP RST), "partial"
    # writes half a status line and closes.
    cut: str | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
            if state.hold:
                state.released.wait()
            if state.cut == "reset":
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True
                self.connection.close()
                return
            if state.cut == "partial":
                self.wfile.write(b"HTTP/1.1 2")
                self.wfile.flush()
                self.close_connection = True
                return
            self.send_response(state.status)
            if state.status in (301, 302, 307, 308):
                self.send_header("Location", f"{state.base}/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    state.released.set()
    server.shutdown()
    server.server_close()
    thread.join()


# Generous: a receiver that answers must never look slow on a busy machine.
def _adapter(receiver: Receiver, timeout: float = 30.0) -> WebhookAdapter:
    return WebhookAdapter(
        f"{receiver.base}/hooks/baton", lambda: KEY, timeout_seconds=timeout, clock=FixedClock(NOW)
    )


def _message(tags: dict[str, str] | None = None) -> OutboundMessage:
    return OutboundMessage.webhook(
        to="c-1",
        purpose=Purpose.TRANSACTIONAL,
        payload={"text": "Pedido A-1 enviado", "contact": "c-1"},
        tags=TAGS if tags is None else tags,
    )


def test_webhook_posts_the_json_body_signed_over_timestamp_and_body(receiver: Receiver) -> None:
    message_id = _adapter(receiver).send(_message())

    (request,) = receiver.requests
    headers = request["headers"]
    assert request["path"] == "/hooks/baton"
    assert json.loads(request["body"]) == {"text": "Pedido A-1 enviado", "contact": "c-1"}
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["X-Baton-Timestamp"] == str(int(NOW.timestamp()))
    expected = hmac.new(KEY, headers["X-Baton-Timestamp"].encode() + b"." + request["body"], hashlib.sha256)
    assert headers["X-Baton-Signature"] == f"v1={expected.hexdigest()}"
    assert headers["X-Baton-Message-Id"] == message_id


def test_r_rel_6_a_retried_webhook_send_carries_the_same_message_id(receiver: Receiver) -> None:
    adapter = _adapter(receiver)

    first, second = adapter.send(_message()), adapter.send(_message())

    assert first == second  # the receiver can drop the duplicate
    assert adapter.send(_message({})) != adapter.send(_message({}))


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, ProviderRejected),
        (404, ProviderRejected),
        (410, ProviderRejected),
        (302, ProviderRejected),  # redirects are not followed
        (408, ProviderUnavailable),
        (425, ProviderUnavailable),
        (429, ProviderThrottled),
        (503, ProviderUnavailable),
    ],
)
def test_the_receivers_status_decides_rejected_or_unavailable(
    receiver: Receiver, status: int, expected: type[Exception]
) -> None:
    receiver.status = status

    with pytest.raises(expected) as raised:
        _adapter(receiver).send(_message())

    assert getattr(raised.value, "code", None) == f"HTTP{status}"
    assert len(receiver.requests) == 1  # no redirect followed, no retry of its own


@pytest.mark.parametrize("status", [500, 502, 504, 501, 599])
def test_a_5xx_other_than_503_may_have_been_processed_so_the_send_is_ambiguous(
    receiver: Receiver, status: int
) -> None:
    receiver.status = status

    with pytest.raises(ProviderAmbiguous) as raised:
        _adapter(receiver).send(_message())

    assert raised.value.code == f"HTTP{status}"
    assert len(receiver.requests) == 1


def test_a_receiver_slower_than_the_timeout_may_have_the_message_so_the_send_is_ambiguous(
    receiver: Receiver,
) -> None:
    receiver.hold = True

    with pytest.raises(ProviderAmbiguous):
        _adapter(receiver, timeout=0.1).send(_message())

    assert len(receiver.requests) == 1  # it had the whole request when the sender gave up


@pytest.mark.parametrize("cut", ["reset", "partial"])
def test_a_connection_cut_after_the_request_was_read_makes_the_send_ambiguous(
    receiver: Receiver, cut: str
) -> None:
    receiver.cut = cut

    with pytest.raises(ProviderAmbiguous):
        _adapter(receiver).send(_message())

    assert len(receiver.requests) == 1


def test_a_receiver_whose_queue_is_full_times_out_connecting_and_is_unavailable() -> None:
    # A listening socket that never accepts: once its backlog is full, the kernel drops new
    # connection attempts, so connecting times out before any byte of the request leaves.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        queued = _fill_backlog(port)
        try:
            adapter = WebhookAdapter(f"http://127.0.0.1:{port}/hooks", lambda: KEY, timeout_seconds=0.2)
            with pytest.raises(ProviderUnavailable) as raised:
                adapter.send(_message())
        finally:
            for connection in queued:
                connection.close()

    assert raised.value.code == "TimeoutError"


def _fill_backlog(port: int) -> list[socket.socket]:
    """Connections queued on a listener that never accepts, until the next one cannot connect."""
    queued: list[socket.socket] = []
    for _ in range(16):
        try:
            queued.append(socket.create_connection(("127.0.0.1", port), timeout=0.2))
        except TimeoutError:
            return queued
    raise AssertionError("the listener's backlog never filled")


def test_a_receiver_that_is_not_listening_is_unavailable() -> None:
    adapter = WebhookAdapter("http://127.0.0.1:9/hooks", lambda: KEY, timeout_seconds=1.0)

    with pytest.raises(ProviderUnavailable):
        adapter.send(_message())


@pytest.mark.parametrize("url", ["http://hooks.example.com/baton", "ftp://127.0.0.1/x", "https:///nohost"])
def test_only_https_or_loopback_http_urls_are_accepted(url: str) -> None:
    with pytest.raises(ValueError, match="webhook URL"):
        check_url(url)


def _client_error(code: str, status: int) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": "x"}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "GetSecretValue",
    )


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("ThrottlingException", 400, ProviderUnavailable),  # retried: the secret is there
        ("InternalServiceError", 500, ProviderUnavailable),
        ("ResourceNotFoundException", 400, ProviderRejected),  # fails the channel for good
    ],
)
def test_a_signing_key_that_cannot_be_read_posts_nothing_and_is_never_ambiguous(
    receiver: Receiver, code: str, status: int, expected: type[Exception]
) -> None:
    def unreadable() -> bytes:
        raise _client_error(code, status)

    adapter = WebhookAdapter(f"{receiver.base}/hooks/baton", unreadable, clock=FixedClock(NOW))

    with pytest.raises(expected):
        adapter.send(_message())

    assert receiver.requests == []
