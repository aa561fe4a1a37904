"""The local API Gateway: HTTP on localhost, routed by the template's REST API to the local
Lambda runtime, plus the `/_local/` helpers of the contract (outbox, inbound SMS, clock).

`LocalApp.handle` turns one request into one response and never raises; `LocalHttpServer`
only moves bytes. Errors use the contract's shape `{"error": {"code", "message", "details"}}`.
A request that ran a handler answers once the executions it started have settled, so what it
set going is in the outbox when the caller looks (see stepfunctions.py).
"""

from __future__ import annotations

import base64
import hmac
import json
import logging
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final
from urllib.parse import parse_qsl, urlsplit

import phonenumbers

from baton.clock import to_iso
from baton.feedback.events import SES_ENGAGEMENT_DETAIL_TYPES, SES_RECEIPT_DETAIL_TYPES
from infra.local.clock import ClockRequestError, VirtualClock, parse_clock_request
from infra.local.deploy import Deployment
from infra.local.events import ApiContext, HttpRequest, InboundSms, api_gateway_event, inbound_sms_event
from infra.local.exceptions import FunctionNotFound, InvocationError
from infra.local.outbox import Outbox
from infra.local.routes import LambdaProxy, MockResponse, RouteTable
from infra.local.runtime import LambdaRuntime
from infra.local.scheduler import Scheduler, SettleTimeout
from infra.names import FEEDBACK_FUNCTION, SMS_INBOUND_FUNCTION

log = logging.getLogger(__name__)

LOCAL_PREFIX: Final = "/_local/"
# API Gateway refuses payloads over 10 MB; the handlers enforce their own, smaller limit.
MAX_PAYLOAD_BYTES: Final = 10 * 1024 * 1024
# A caller identity for private (AWS_IAM) routes, as IAM would name a signed-in user.
LOCAL_CALLER: Final = "baton-local"
_E164: Final = re.compile(r"\+[1-9]\d{6,14}")


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


def json_response(status: int, payload: Any, headers: Iterable[tuple[str, str]] = ()) -> HttpResponse:
    return HttpResponse(
        status, [("Content-Type", "application/json"), *headers], json.dumps(payload).encode()
    )


def error_response(
    status: int,
    code: str,
    message: str,
    details: Sequence[Mapping[str, Any]] = (),
    headers: Iterable[tuple[str, str]] = (),
) -> HttpResponse:
    payload = {"error": {"code": code, "message": message, "details": list(details)}}
    return json_response(status, payload, headers)


def proxy_response(result: Any) -> HttpResponse:
    """What API Gateway makes of a Lambda proxy answer (statusCode, headers, body, ...)."""
    if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int | str):
        return error_response(502, "bad_lambda_response", "the function's answer has no statusCode")
    multi = result.get("multiValueHeaders") or {}
    single = result.get("headers") or {}
    headers = [(str(k), str(v)) for k, values in multi.items() for v in (values or [])]
    taken = {k.lower() for k in multi}
    headers += [(str(k), str(v)) for k, v in single.items() if k.lower() not in taken]
    headers = [
        (k, v) for k, v in headers if k.lower() not in ("content-length", "transfer-encoding", "connection")
    ]
    if not any(k.lower() == "content-type" for k, _ in headers):
        headers.append(("Content-Type", "application/json"))
    raw = result.get("body") or ""
    try:
        body = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode()
    except ValueError:
        return error_response(502, "bad_lambda_response", "isBase64Encoded is set but the body is not base64")
    return HttpResponse(int(result["statusCode"]), headers, body)


class LocalApp:
    """One request in, one response out."""

    def __init__(
        self,
        *,
        routes: RouteTable,
        deployment: Deployment,
        runtime: LambdaRuntime,
        outbox: Outbox,
        clock: VirtualClock,
        scheduler: Scheduler,
        token: str,
        port: Callable[[], int],
        sms_number: str,
        sms_inbound_function: str = SMS_INBOUND_FUNCTION,
        advance_to: Callable[[datetime], datetime] | None = None,
    ) -> None:
        self.routes = routes
        self.deployment = deployment
        self.runtime = runtime
        self.outbox = outbox
        self.clock = clock
        self.scheduler = scheduler
        # How the clock moves (the stack's: it also fires EventBridge schedules).
        self.advance_to = advance_to or scheduler.advance_to
        self.token = token
        self._port = port
        self.sms_number = sms_number
        self.sms_inbound_function = sms_inbound_function
        self._helpers: dict[str, dict[str, Callable[[HttpRequest], HttpResponse]]] = {
            "/_local/outbox": {"GET": self._outbox},
            "/_local/sms-inbound": {"POST": self._sms_inbound},
            "/_local/clock": {"GET": self._clock, "POST": self._move_clock},
            "/_local/ses-event": {"POST": self._ses_event},
        }

    def handle(self, request: HttpRequest) -> HttpResponse:
        try:
            if len(request.body) > MAX_PAYLOAD_BYTES:
                return error_response(413, "payload_too_large", "API Gateway accepts at most 10 MB")
            if request.path.startswith(LOCAL_PREFIX):
                return self._local(request)
            return self._api(request)
        except Exception:
            log.exception("%s %s failed in the local stack", request.method, self.route_of(request.path))
            return error_response(500, "local_stack_error", "the local stack failed; see its log")

    def route_of(self, path: str) -> str:
        """What a log line may say of a path: its route (`/v1/confirm/{token}`), never the token."""
        if path.startswith(LOCAL_PREFIX):
            return path
        found = self.routes.match(path)
        return found.resource.path if found is not None else "(no route)"

    # The API -----------------------------------------------------------------------------

    def _api(self, request: HttpRequest) -> HttpResponse:
        found = self.routes.match(request.path)
        if found is None or not found.resource.methods:
            return error_response(404, "not_found", f"no route for {request.path}")
        method = found.resource.method(request.method)
        if method is None:
            allowed = ", ".join(found.resource.allowed)
            return error_response(
                405,
                "method_not_allowed",
                f"{request.method} is not allowed on {found.resource.path} (allowed: {allowed or 'none'})",
                headers=[("Allow", allowed)],
            )
        if method.needs_credentials:
            refused = self._check_bearer(request)
            if refused is not None:
                return refused
        integration = method.integration
        if isinstance(integration, MockResponse):
            return HttpResponse(integration.status, integration.headers_for(request.header("Origin")))
        if not isinstance(integration, LambdaProxy):
            return error_response(
                501, "not_implemented", f"the local stack cannot run integration {integration}"
            )
        request_id = str(uuid.uuid4())
        event = api_gateway_event(
            request,
            ApiContext(
                account_id=self.deployment.account_id,
                api_id=self.deployment.physical[self.routes.api_logical_id].ref,
                stage=self.routes.stage,
                resource_id=self.deployment.physical[found.resource.logical_id].ref,
                resource_path=found.resource.path,
                path_parameters=found.path_parameters,
                server_port=self._port(),
                caller_arn=(
                    f"arn:aws:iam::{self.deployment.account_id}:user/{LOCAL_CALLER}"
                    if method.needs_credentials
                    else None
                ),
            ),
            request_id=request_id,
            now=self.clock.now(),
            binary=self.routes.is_binary(request.header("Content-Type")),
        )
        try:
            result = self.runtime.invoke(integration.function, event)
        except InvocationError as exc:
            return error_response(502, "lambda_error", str(exc))
        finally:
            self._settle()
        response = proxy_response(result)
        response.headers.append(("x-amzn-RequestId", request_id))
        return response

    def _check_bearer(self, request: HttpRequest) -> HttpResponse | None:
        """AWS_IAM locally: the bearer token printed at start stands in for a SigV4 signature."""
        scheme, _, credential = (request.header("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not credential.strip():
            return error_response(
                401,
                "unauthorized",
                "this route needs `Authorization: Bearer <token>` (the token `baton local` printed)",
                headers=[("WWW-Authenticate", 'Bearer realm="baton-local"')],
            )
        if not hmac.compare_digest(credential.strip().encode(), self.token.encode()):
            return error_response(
                403, "forbidden", "the bearer token is not the one this local stack printed"
            )
        return None

    # /_local/ helpers ----------------------------------------------------------------------

    def _local(self, request: HttpRequest) -> HttpResponse:
        path = request.path.rstrip("/")
        methods = self._helpers.get(path)
        if methods is None:
            return error_response(404, "not_found", f"no local helper at {request.path}")
        helper = methods.get(request.method)
        if helper is None:
            allowed = ", ".join(sorted(methods))
            return error_response(
                405, "method_not_allowed", f"{path} answers {allowed}", headers=[("Allow", allowed)]
            )
        return helper(request)

    def _outbox(self, request: HttpRequest) -> HttpResponse:
        wanted = dict(parse_qsl(request.query))
        messages = [
            m.as_json()
            for m in self.outbox.messages()
            if wanted.get("to") in (None, m.to) and wanted.get("channel") in (None, m.channel)
        ]
        return json_response(200, messages)

    def _clock(self, request: HttpRequest) -> HttpResponse:
        return json_response(200, self._clock_state())

    def _move_clock(self, request: HttpRequest) -> HttpResponse:
        """Move virtual time and run whatever fell due; answers when everything has settled."""
        try:
            body = json.loads(request.body or b"null")
        except ValueError:
            return error_response(400, "malformed_json", "the body is not JSON")
        try:
            move = parse_clock_request(body, self.clock.now())
        except ClockRequestError as exc:
            return error_response(
                422, "invalid_field", "invalid clock move", [{"field": exc.field, "message": exc.message}]
            )
        try:
            self.advance_to(move.target)
        except SettleTimeout as exc:
            return error_response(504, "executions_not_settled", str(exc))
        return json_response(200, self._clock_state())

    def _clock_state(self) -> dict[str, Any]:
        """Now, and the executions asleep until a later time (soonest first)."""
        return {
            "now": to_iso(self.clock.now()),
            "waiting": [{"execution": s.key, "until": to_iso(s.due)} for s in self.scheduler.sleepers()],
        }

    def _settle(self) -> None:
        try:
            self.scheduler.settle()
        except SettleTimeout:
            log.exception("executions started by this request did not settle")

    def _not_yet(self, request: HttpRequest) -> HttpResponse:
        return error_response(
            501, "not_implemented", f"{request.method} {request.path} is in the contract but not built yet"
        )

    def _sms_inbound(self, request: HttpRequest) -> HttpResponse:
        """A text from a phone to Baton's number, as two-way SMS delivers it through SNS."""
        try:
            body = json.loads(request.body or b"null")
        except ValueError:
            return error_response(400, "malformed_json", "the body is not JSON")
        if not isinstance(body, dict):
            return error_response(400, "malformed_json", 'send {"from": "+1...", "body": "..."}')
        sender = _e164(body["from"]) if isinstance(body.get("from"), str) else None
        text = body.get("body")
        if sender is None or not isinstance(text, str):
            problems = [{"field": "from", "message": "required: a phone number"}] if sender is None else []
            if not isinstance(text, str):
                problems.append({"field": "body", "message": "required: a string"})
            return error_response(422, "invalid_field", "invalid inbound SMS", problems)
        try:
            function = self.deployment.function(self.sms_inbound_function)
        except FunctionNotFound as exc:
            return error_response(501, "not_implemented", f"no inbound SMS function: {exc}")
        subscriptions = self.deployment.subscriptions_of(function.logical_id)
        topic_arn = (
            subscriptions[0].topic_arn
            if subscriptions
            else f"arn:aws:sns:{self.deployment.region}:{self.deployment.account_id}:inbound-sms"
        )
        subscription_arn = subscriptions[0].arn if subscriptions else f"{topic_arn}:local"
        previous = self.outbox.last_sms_to(sender)
        sms = InboundSms(
            origination_number=sender,
            destination_number=str(body.get("to") or self.sms_number),
            body=text,
            inbound_message_id=str(uuid.uuid4()),
            previous_published_message_id=previous.message_id if previous else "",
        )
        event = inbound_sms_event(
            sms,
            topic_arn=topic_arn,
            subscription_arn=subscription_arn,
            message_id=str(uuid.uuid4()),
            now=self.clock.now(),
            region=self.deployment.region,
        )
        try:
            self.runtime.invoke(function.logical_id, event)
        except InvocationError as exc:
            return error_response(502, "lambda_error", str(exc))
        finally:
            self._settle()
        return json_response(202, {"inboundMessageId": sms.inbound_message_id})

    # Delivery feedback -------------------------------------------------------------------

    def _ses_event(self, request: HttpRequest) -> HttpResponse:
        """An SES event as the configuration set publishes it to EventBridge, handed to
        FeedbackFunction in-process (the default bus's rule). The body is an SES event record
        (`{"eventType": "Bounce", "mail": {...}, "bounce": {...}}`), a whole EventBridge event
        (any source, e.g. an End User Messaging SMS receipt), or the shorthand
        `{"type": "bounce"|"complaint"|"delivery"|"reject"|"open"|"click", "message_id", "to"?,
        "bounce_type"?, "tags"?}` where `message_id` is an outbox message's, `to` defaults to its
        recipient and `tags` are the SES message tags the event echoes (`{"journey": ..., "step":
        ...}`: what the figures count it by). Opens and clicks are accepted whatever cdk.json's
        `tracking` says: the switch decides what SES publishes, not what the feedback function
        understands."""
        try:
            body = json.loads(request.body or b"null")
        except ValueError:
            return error_response(400, "malformed_json", "the body is not JSON")
        if not isinstance(body, dict):
            return error_response(400, "malformed_json", 'send {"type": "bounce", "message_id": "..."}')
        if "source" in body and "detail" in body:
            event: dict[str, Any] = body
        else:
            record = body if "eventType" in body else self._ses_record(body)
            if isinstance(record, HttpResponse):
                return record
            detail_type = _SES_DETAIL_TYPES.get(str(record.get("eventType")))
            if detail_type is None:
                problem = {"field": "eventType", "message": f"one of {', '.join(_SES_DETAIL_TYPES)}"}
                return error_response(422, "invalid_field", "invalid SES event", [problem])
            event = {
                "version": "0",
                "id": str(uuid.uuid4()),
                "detail-type": detail_type,
                "source": "aws.ses",
                "account": self.deployment.account_id,
                "time": to_iso(self.clock.now()),
                "region": self.deployment.region,
                "resources": [],
                "detail": record,
            }
        try:
            function = self.deployment.function(FEEDBACK_FUNCTION)
        except FunctionNotFound as exc:
            return error_response(501, "not_implemented", f"no feedback function: {exc}")
        try:
            result = self.runtime.invoke(function.logical_id, event)
        except InvocationError as exc:
            return error_response(502, "lambda_error", str(exc))
        finally:
            self._settle()  # a receipt may resume a journey waiting for it
        return json_response(
            202, {"id": event.get("id"), "detail-type": event.get("detail-type"), "result": result}
        )

    def _ses_record(self, body: Mapping[str, Any]) -> dict[str, Any] | HttpResponse:
        """The SES event record of the shorthand body."""
        kind = str(body.get("type", "")).lower()
        message_id = body.get("message_id")
        problems = []
        if kind not in _SES_SHORTHAND:
            problems.append({"field": "type", "message": f"one of {', '.join(_SES_SHORTHAND)}"})
        if not isinstance(message_id, str) or not message_id:
            problems.append(
                {"field": "message_id", "message": "required: the SES message id (see the outbox)"}
            )
        if problems:
            return error_response(422, "invalid_field", "invalid SES event", problems)
        sent = next((m for m in self.outbox.messages() if m.message_id == message_id), None)
        to = body.get("to") or (sent.to if sent is not None else None)
        if not isinstance(to, str):
            problem = {"field": "to", "message": "required: no outbox message has this message_id"}
            return error_response(422, "invalid_field", "invalid SES event", [problem])
        now = to_iso(self.clock.now())
        event_type = _SES_SHORTHAND[kind]
        tags = body.get("tags") or {}
        if not isinstance(tags, Mapping) or not all(isinstance(v, str) for v in tags.values()):
            problem = {"field": "tags", "message": 'an object of strings: {"journey": "...", "step": "..."}'}
            return error_response(422, "invalid_field", "invalid SES event", [problem])
        mail: dict[str, Any] = {"timestamp": now, "messageId": message_id, "destination": [to]}
        if tags:
            mail["tags"] = {str(name): [value] for name, value in tags.items()}  # as SES echoes them
        record: dict[str, Any] = {"eventType": event_type, "mail": mail}
        if event_type == "Bounce":
            record["bounce"] = {
                "bounceType": str(body.get("bounce_type") or "Permanent"),
                "bounceSubType": "General",
                "bouncedRecipients": [{"emailAddress": to}],
                "timestamp": now,
                "feedbackId": f"local-{uuid.uuid4()}",
            }
        elif event_type == "Complaint":
            record["complaint"] = {
                "complainedRecipients": [{"emailAddress": to}],
                "timestamp": now,
                "feedbackId": f"local-{uuid.uuid4()}",
                "complaintFeedbackType": "abuse",
            }
        elif event_type == "Delivery":
            record["delivery"] = {"timestamp": now, "recipients": [to]}
        elif event_type in SES_ENGAGEMENT_DETAIL_TYPES:
            record[event_type.lower()] = {"timestamp": now}
        else:
            record["reject"] = {"reason": "Bad content"}
        return record


# SES event types and the EventBridge detail-type SES gives each.
_SES_DETAIL_TYPES: Final = {**SES_RECEIPT_DETAIL_TYPES, **SES_ENGAGEMENT_DETAIL_TYPES}
_SES_SHORTHAND: Final = {event_type.lower(): event_type for event_type in _SES_DETAIL_TYPES}


def _e164(number: str) -> str | None:
    """Two-way SMS always reports E.164; accept common forms here and convert."""
    text = number.strip()
    if _E164.fullmatch(text):
        return text
    try:
        parsed = phonenumbers.parse(text, "US")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "baton-local"
    server: LocalHttpServer

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    def _serve(self) -> None:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self._write(error_response(411, "length_required", "send a Content-Length"), close=True)
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        target = urlsplit(self.path)
        request = HttpRequest(
            method=self.command,
            path=target.path or "/",
            query=target.query,
            headers=tuple((k, v) for k, v in self.headers.items()),
            body=body,
            client_ip=self.client_address[0],
        )
        self._write(self.server.app.handle(request))

    def _write(self, response: HttpResponse, *, close: bool = False) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # The access line names the route, not the path: paths carry link tokens.
        path = urlsplit(self.path).path or "/"
        log.info("%s %s %s", self.command, self.server.app.route_of(path), code)

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), format % args)


class LocalHttpServer(ThreadingHTTPServer):
    daemon_threads = True
    app: LocalApp

    def __init__(self, host: str, port: int) -> None:
        super().__init__((host, port), _RequestHandler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])
