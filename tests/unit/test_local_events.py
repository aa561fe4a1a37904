"""The events the local stack hands to handlers have the shape of the canonical AWS examples
in tests/events/, and carry the request the way API Gateway and SNS do."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from infra.local.events import ApiContext, HttpRequest, InboundSms, api_gateway_event, inbound_sms_event

EVENTS = Path(__file__).parent.parent / "events"
NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def _load(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return event


def _shape(value: Any) -> Any:
    """Keys of every object and the type of every value, recursively."""
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shape(item) for item in value]
    return type(value).__name__ if value is not None else None


def _request(**overrides: Any) -> HttpRequest:
    values: dict[str, Any] = {
        "method": "POST",
        "path": "/v1/subscriptions",
        "query": "utm_source=footer",
        "headers": (
            ("Host", "127.0.0.1:3000"),
            ("Content-Type", "application/json"),
            ("User-Agent", "Mozilla/5.0"),
        ),
        "body": b'{"email": "ana@example.com"}',
        "client_ip": "203.0.113.24",
    }
    values.update(overrides)
    return HttpRequest(**values)


def _context(**overrides: Any) -> ApiContext:
    values: dict[str, Any] = {
        "account_id": "123456789012",
        "api_id": "a1b2c3d4e5",
        "stage": "prod",
        "resource_id": "k8x2pq",
        "resource_path": "/v1/subscriptions",
        "path_parameters": {},
        "server_port": 3000,
    }
    values.update(overrides)
    return ApiContext(**values)


def test_api_event_has_the_shape_of_the_canonical_rest_proxy_event() -> None:
    canonical = _load("apigw_rest_proxy.json")

    event = api_gateway_event(_request(), _context(), request_id="r-1", now=NOW, binary=False)

    assert event.keys() == canonical.keys()
    assert event["requestContext"].keys() == canonical["requestContext"].keys()
    assert _shape(event["requestContext"]["identity"]) == _shape(canonical["requestContext"]["identity"])
    assert event["requestContext"]["requestTime"] == canonical["requestContext"]["requestTime"]
    assert event["requestContext"]["requestTimeEpoch"] == canonical["requestContext"]["requestTimeEpoch"]


def test_api_event_carries_the_request_as_api_gateway_does() -> None:
    request = _request(
        method="GET",
        path="/v1/confirm/abc%2B1",
        query="a=1&a=2&b=",
        headers=(("Host", "127.0.0.1:3000"), ("Accept", "text/html"), ("Accept", "application/json")),
        body=b"",
    )
    context = _context(resource_path="/v1/confirm/{token}", path_parameters={"token": "abc+1"})

    event = api_gateway_event(request, context, request_id="r-1", now=NOW, binary=False)

    assert event["path"] == "/v1/confirm/abc%2B1"
    assert event["resource"] == "/v1/confirm/{token}"
    assert event["pathParameters"] == {"token": "abc+1"}
    assert event["queryStringParameters"] == {"a": "2", "b": ""}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": [""]}
    assert event["headers"]["Accept"] == "application/json"
    assert event["multiValueHeaders"]["Accept"] == ["text/html", "application/json"]
    assert event["headers"]["X-Forwarded-For"] == "203.0.113.24"
    assert event["body"] is None
    assert event["requestContext"]["identity"]["sourceIp"] == "203.0.113.24"
    assert event["requestContext"]["path"] == "/prod/v1/confirm/abc%2B1"


def test_api_event_without_query_has_null_query_maps() -> None:
    event = api_gateway_event(_request(query=""), _context(), request_id="r", now=NOW, binary=False)

    assert (event["queryStringParameters"], event["multiValueQueryStringParameters"]) == (None, None)
    assert event["pathParameters"] is None


def test_binary_and_non_utf8_bodies_are_base64_encoded() -> None:
    binary = api_gateway_event(_request(body=b"abc"), _context(), request_id="r", now=NOW, binary=True)
    undecodable = api_gateway_event(
        _request(body=b"\xff\xfe"), _context(), request_id="r", now=NOW, binary=False
    )

    assert (binary["body"], binary["isBase64Encoded"]) == (base64.b64encode(b"abc").decode(), True)
    assert (base64.b64decode(undecodable["body"]), undecodable["isBase64Encoded"]) == (b"\xff\xfe", True)


def test_iam_caller_fills_the_identity_as_iam_would() -> None:
    context = _context(caller_arn="arn:aws:iam::123456789012:user/baton-local")

    identity = api_gateway_event(_request(), context, request_id="r", now=NOW, binary=False)[
        "requestContext"
    ]["identity"]

    assert identity["userArn"] == "arn:aws:iam::123456789012:user/baton-local"
    assert identity["accountId"] == "123456789012"
    assert identity["user"] == "baton-local"


def test_inbound_sms_event_has_the_shape_of_the_canonical_notification() -> None:
    canonical = _load("sns_inbound_sms.json")
    sms = InboundSms("+14255550182", "+12065550100", "stop please", "in-1", "out-1")

    event = inbound_sms_event(
        sms,
        topic_arn="arn:aws:sns:us-east-1:123456789012:inbound",
        subscription_arn="arn:aws:sns:us-east-1:123456789012:inbound:sub",
        message_id="m-1",
        now=NOW,
        region="us-east-1",
    )

    assert _shape(event) == _shape(canonical)
    assert event["Records"][0]["Sns"]["Timestamp"] == canonical["Records"][0]["Sns"]["Timestamp"]
    message = json.loads(event["Records"][0]["Sns"]["Message"])
    assert message.keys() == json.loads(canonical["Records"][0]["Sns"]["Message"]).keys()
    assert message["messageKeyword"] == "STOP"
    assert message["previousPublishedMessageId"] == "out-1"
