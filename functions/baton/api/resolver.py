"""Builds a Powertools REST resolver with Baton's validation, CORS and error mapping."""

from __future__ import annotations

import base64
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from baton.api import errors
from baton.subscriptions.models import Caller


def create_resolver(cors_origins: list[str] | None = None) -> APIGatewayRestResolver:
    cors = None
    if cors_origins:
        cors = CORSConfig(allow_origin=cors_origins[0], extra_origins=cors_origins[1:], max_age=600)
    # debug off even under POWERTOOLS_DEV: it prints every event (bodies, tokens) to stdout.
    app = APIGatewayRestResolver(cors=cors, enable_validation=True, debug=False)
    errors.register(app)
    return app


def caller(event: BaseProxyEvent) -> Caller:
    """The caller's IP and user agent as API Gateway saw them (REST proxy events)."""
    context = event.get("requestContext") or {}
    identity = context.get("identity") or {}
    return Caller(
        ip=identity.get("sourceIp"), user_agent=identity.get("userAgent") or event.headers.get("user-agent")
    )


def body_size(event: dict[str, Any]) -> int:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        return len(base64.b64decode(body))
    return len(body.encode())


def resolve(
    app: APIGatewayRestResolver, event: dict[str, Any], context: LambdaContext, max_body_bytes: int
) -> dict[str, Any]:
    """Refuse oversized bodies before any parsing, then route."""
    size = body_size(event)
    if size > max_body_bytes:
        message = f"The request body is {size} bytes; the limit is {max_body_bytes}."
        return {
            "statusCode": HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            "headers": {"Content-Type": "application/json"},
            "body": errors.error_body("payload_too_large", message),
            "isBase64Encoded": False,
        }
    return app.resolve(event, context)
