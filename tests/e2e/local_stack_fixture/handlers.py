"""Test-only Lambda handlers named by template.json beside this file: they show the local stack
what they received (event, context, environment, settings) and send through SES and SNS."""

from __future__ import annotations

import base64
import json
import os
from email.message import EmailMessage
from typing import Any

from baton import aws
from baton.settings import get_settings

# Every event the inbound-SMS handler received, oldest first (the runtime is in-process).
RECEIVED_SMS_EVENTS: list[dict[str, Any]] = []
_SHOWN_ENV = ("BATON_", "FIXTURE_", "AWS_LAMBDA_", "POWERTOOLS_", "AWS_REGION", "_HANDLER")


def _json(status: int, payload: Any) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(payload),
    }


def echo(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if (event.get("queryStringParameters") or {}).get("b64"):
        return {
            "statusCode": 200,
            "headers": {"Content-Type": "application/octet-stream"},
            "body": base64.b64encode(b"\x00\x01binary").decode(),
            "isBase64Encoded": True,
        }
    settings = get_settings()
    payload = {
        "event": event,
        "env": {k: v for k, v in os.environ.items() if k.startswith(_SHOWN_ENV)},
        "settings": {"contacts_table": settings.contacts_table, "public_base_url": settings.public_base_url},
        "context": {
            "function_name": context.function_name,
            "invoked_function_arn": context.invoked_function_arn,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "aws_request_id": context.aws_request_id,
            "remaining_ms": context.get_remaining_time_in_millis(),
        },
    }
    response = _json(200, payload)
    response["headers"]["X-Echo"] = "yes"
    response["multiValueHeaders"] = {"Set-Cookie": ["first=1", "second=2"]}
    return response


def send(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settings = get_settings()
    body = json.loads(event["body"])
    mime = EmailMessage()
    mime["Subject"] = "Fixture: please confirm"
    mime["From"] = settings.sender_email
    mime["To"] = body["email"]
    mime["List-Unsubscribe"] = f"<{settings.public_base_url}/unsubscribe/fixture>"
    mime.set_content(f"Confirm here: {settings.public_base_url}/confirm/fixture")
    mime.add_alternative(
        f"<p><a href='{settings.public_base_url}/confirm/fixture'>Confirm</a></p>", subtype="html"
    )
    email_id = aws.client("sesv2").send_email(
        FromEmailAddress=settings.sender_email,
        Destination={"ToAddresses": [body["email"]]},
        Content={"Raw": {"Data": mime.as_bytes()}},
        ConfigurationSetName=settings.ses_configuration_set,
    )["MessageId"]
    sms_id = aws.client("sns").publish(PhoneNumber=body["phone"], Message="Fixture: reply YES to confirm")[
        "MessageId"
    ]
    return _json(
        202,
        {"email_message_id": email_id, "sms_message_id": sms_id, "contacts_table": settings.contacts_table},
    )


def sms_inbound(event: dict[str, Any], context: Any) -> None:
    RECEIVED_SMS_EVENTS.append(event)
    message = json.loads(event["Records"][0]["Sns"]["Message"])
    aws.client("sns").publish(
        PhoneNumber=message["originationNumber"], Message=f"You said: {message['messageBody']}"
    )


def boom(event: dict[str, Any], context: Any) -> dict[str, Any]:
    raise RuntimeError("the fixture handler failed on purpose")
