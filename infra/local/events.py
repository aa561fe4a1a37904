"""The events AWS hands to Lambda, built the way AWS builds them: API Gateway REST proxy
requests and SNS notifications carrying two-way SMS. Canonical examples: tests/events/."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl


@dataclass(frozen=True)
class HttpRequest:
    """One HTTP request as received: raw path (still percent-encoded) and raw query string."""

    method: str
    path: str
    query: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    client_ip: str

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in reversed(self.headers) if k.lower() == wanted), None)


@dataclass(frozen=True)
class ApiContext:
    """Where the request landed: the API, stage and resource that matched it."""

    account_id: str
    api_id: str
    stage: str
    resource_id: str
    resource_path: str
    path_parameters: Mapping[str, str]
    server_port: int
    # The caller as IAM would name it, on AWS_IAM methods; None on public methods.
    caller_arn: str | None = None


def _group(pairs: Sequence[tuple[str, str]]) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    """API Gateway's two views of repeated names: the last value, and every value."""
    if not pairs:
        return None, None
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        multi.setdefault(name, []).append(value)
    return {name: values[-1] for name, values in multi.items()}, multi


def _trace_id(now: datetime) -> str:
    return f"Root=1-{int(now.timestamp()):08x}-{secrets.token_hex(12)}"


def api_gateway_event(
    request: HttpRequest, context: ApiContext, *, request_id: str, now: datetime, binary: bool
) -> dict[str, Any]:
    """A REST API Lambda proxy event (payload format 1.0), as API Gateway sends it."""
    forwarded_for = request.header("X-Forwarded-For")
    added = [
        ("X-Forwarded-For", f"{forwarded_for}, {request.client_ip}" if forwarded_for else request.client_ip),
        ("X-Forwarded-Port", str(context.server_port)),
        ("X-Forwarded-Proto", "http"),
        ("X-Amzn-Trace-Id", _trace_id(now)),
    ]
    replaced = {name.lower() for name, _ in added}
    headers, multi_headers = _group([h for h in request.headers if h[0].lower() not in replaced] + added)
    query, multi_query = _group(parse_qsl(request.query, keep_blank_values=True))

    body: str | None = None
    is_base64 = False
    if request.body:
        if not binary:
            try:
                body = request.body.decode("utf-8")
            except UnicodeDecodeError:
                binary = True
        if binary:
            body, is_base64 = base64.b64encode(request.body).decode(), True

    host = request.header("Host") or f"127.0.0.1:{context.server_port}"
    iam = context.caller_arn is not None
    return {
        "resource": context.resource_path,
        "path": request.path,
        "httpMethod": request.method,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": dict(context.path_parameters) or None,
        "stageVariables": None,
        "requestContext": {
            "accountId": context.account_id,
            "apiId": context.api_id,
            "domainName": host,
            "domainPrefix": host.split(".", 1)[0].split(":", 1)[0],
            "extendedRequestId": request_id,
            "httpMethod": request.method,
            "identity": {
                "accessKey": "LOCALBEARERTOKEN" if iam else None,
                "accountId": context.account_id if iam else None,
                "caller": context.caller_arn.rsplit("/", 1)[-1] if context.caller_arn else None,
                "cognitoAuthenticationProvider": None,
                "cognitoAuthenticationType": None,
                "cognitoIdentityId": None,
                "cognitoIdentityPoolId": None,
                "principalOrgId": None,
                "sourceIp": request.client_ip,
                "user": context.caller_arn.rsplit("/", 1)[-1] if context.caller_arn else None,
                "userAgent": request.header("User-Agent"),
                "userArn": context.caller_arn,
            },
            "path": f"/{context.stage}{request.path}",
            "protocol": "HTTP/1.1",
            "requestId": request_id,
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "resourceId": context.resource_id,
            "resourcePath": context.resource_path,
            "stage": context.stage,
        },
        "body": body,
        "isBase64Encoded": is_base64,
    }


@dataclass(frozen=True)
class InboundSms:
    """The two-way SMS JSON that End User Messaging / SNS publish for a text received."""

    origination_number: str  # the person who texted, E.164
    destination_number: str  # Baton's number
    body: str
    inbound_message_id: str
    previous_published_message_id: str = ""

    @property
    def keyword(self) -> str:
        """The first word, upper-cased: what a registered-keyword match reports. Handlers
        classify `messageBody` themselves."""
        words = self.body.split()
        return words[0].upper() if words else ""

    def as_message(self) -> dict[str, str]:
        return {
            "originationNumber": self.origination_number,
            "destinationNumber": self.destination_number,
            "messageKeyword": self.keyword,
            "messageBody": self.body,
            "inboundMessageId": self.inbound_message_id,
            "previousPublishedMessageId": self.previous_published_message_id,
        }


def sns_event(
    *, topic_arn: str, subscription_arn: str, message: str, message_id: str, now: datetime, region: str
) -> dict[str, Any]:
    """An SNS notification as delivered to a subscribed Lambda function."""
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": subscription_arn,
                "Sns": {
                    "Type": "Notification",
                    "MessageId": message_id,
                    "TopicArn": topic_arn,
                    "Subject": None,
                    "Message": message,
                    "Timestamp": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
                    "SignatureVersion": "1",
                    "Signature": base64.b64encode(secrets.token_bytes(64)).decode(),
                    "SigningCertUrl": f"https://sns.{region}.amazonaws.com/SimpleNotificationService-local.pem",
                    "UnsubscribeUrl": (
                        f"https://sns.{region}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={subscription_arn}"
                    ),
                    "MessageAttributes": {},
                },
            }
        ]
    }


def inbound_sms_event(
    sms: InboundSms, *, topic_arn: str, subscription_arn: str, message_id: str, now: datetime, region: str
) -> dict[str, Any]:
    return sns_event(
        topic_arn=topic_arn,
        subscription_arn=subscription_arn,
        message=json.dumps(sms.as_message()),
        message_id=message_id,
        now=now,
        region=region,
    )
