"""Builds a Powertools REST resolver with Baton's validation, CORS and error mapping.

Every request body goes through one decoding step before any route runs: the bytes must be
UTF-8 and within the size limit, and a JSON body must be shallow enough to parse, hold no
NaN or Infinity (not JSON, and not storable) and no text that is not valid Unicode. Each
refusal is a 4xx naming the body or the field; nothing has happened yet when it is decided.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from baton.api import errors
from baton.api.exceptions import ApiError, InvalidFields, MalformedJson, MalformedRequest, PayloadTooLarge
from baton.data.documents import has_lone_surrogate
from baton.subscriptions.models import Caller

# Deeper than any body the contract describes (a free map nests at most 16 levels inside it),
# and shallow enough that parsing and validating it never nears Python's recursion limit.
MAX_BODY_DEPTH = 32


def create_resolver(cors_origins: list[str] | None = None) -> APIGatewayRestResolver:
    cors = None
    if cors_origins:
        cors = CORSConfig(allow_origin=cors_origins[0], extra_origins=cors_origins[1:], max_age=600)
    # debug off even under POWERTOOLS_DEV: it prints every event (bodies, tokens) to stdout.
    app = APIGatewayRestResolver(
        cors=cors, enable_validation=True, debug=False, json_body_deserializer=parse_json_body
    )
    errors.register(app)
    return app


def caller(event: BaseProxyEvent) -> Caller:
    """The caller's IP and user agent as API Gateway saw them (REST proxy events)."""
    context = event.get("requestContext") or {}
    identity = context.get("identity") or {}
    return Caller(
        ip=identity.get("sourceIp"), user_agent=identity.get("userAgent") or event.headers.get("user-agent")
    )


def _body(message: str) -> list[dict[str, Any]]:
    return [{"field": "body", "message": message}]


def body_bytes(event: dict[str, Any]) -> bytes:
    """The body exactly as the client sent it (API Gateway base64-encodes what is not text)."""
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise MalformedRequest("The request body is not valid base64.", _body("not base64")) from exc
    try:
        return str(body).encode()
    except UnicodeEncodeError as exc:
        raise MalformedRequest("The request body is not valid UTF-8.", _body("not UTF-8")) from exc


def decode_body(event: dict[str, Any], max_body_bytes: int) -> dict[str, Any]:
    """The event with its body as checked UTF-8 text, or an ApiError (413 too large, 400 not UTF-8)."""
    raw = body_bytes(event)
    if len(raw) > max_body_bytes:
        raise PayloadTooLarge(f"The request body is {len(raw)} bytes; the limit is {max_body_bytes}.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedRequest("The request body is not valid UTF-8.", _body("not UTF-8")) from exc
    if event.get("body") is None:
        return event
    return {**event, "body": text, "isBase64Encoded": False}


def _depth(text: str) -> int:
    """How deep the JSON text's arrays and objects nest, counted without parsing it."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def _refuse_constant(name: str) -> Any:
    raise MalformedJson(
        f"The request body is not valid JSON: {name} is not a JSON number.", _body(f"{name} is not JSON")
    )


def _invalid_text(value: Any, path: tuple[str, ...] = ()) -> list[str]:
    """The dotted paths of every string (or key) that is not valid Unicode."""
    found: list[str] = []
    if isinstance(value, str):
        if has_lone_surrogate(value):
            found.append(".".join(path) or "body")
    elif isinstance(value, dict):
        for key, item in value.items():
            if has_lone_surrogate(key):
                found.append(".".join((*path, "[key]")))  # the key itself cannot be shown back
            else:
                found.extend(_invalid_text(item, (*path, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_invalid_text(item, (*path, str(index))))
    return found


def parse_json_body(text: str) -> Any:
    """The resolver's JSON reader: refuses too-deep nesting (413), NaN/Infinity (400) and
    strings that are not valid Unicode (422 naming each field)."""
    if _depth(text) > MAX_BODY_DEPTH:
        message = f"The request body nests deeper than {MAX_BODY_DEPTH} levels."
        raise PayloadTooLarge(message, _body(f"nests more than {MAX_BODY_DEPTH} levels"))
    try:
        document = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError:
        raise  # Powertools answers it: 400 malformed_json
    except ValueError as exc:  # an integer longer than Python converts (4,300 digits)
        raise MalformedJson(
            f"The request body is not valid JSON: {exc}", _body("a number is too long")
        ) from exc
    fields = sorted(set(_invalid_text(document)))
    if fields:
        message = "the text holds a lone surrogate, which is not valid Unicode"
        raise InvalidFields(
            [{"field": field, "message": message, "type": "invalid_unicode"} for field in fields]
        )
    return document


def resolve(
    app: APIGatewayRestResolver, event: dict[str, Any], context: LambdaContext, max_body_bytes: int
) -> dict[str, Any]:
    """Decode and check the body before any parsing or routing, then route."""
    try:
        checked = decode_body(event, max_body_bytes)
    except ApiError as exc:
        return {
            "statusCode": exc.status,
            "headers": {"Content-Type": "application/json"},
            "body": errors.error_body(exc.code, exc.message, exc.details),
            "isBase64Encoded": False,
        }
    return app.resolve(checked, context)
