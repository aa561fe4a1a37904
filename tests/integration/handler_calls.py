"""The API and inbound-SMS Lambdas called in-process on moto, as API Gateway and SNS call them,
with a snapshot of everything Baton keeps (tables, sent messages, executions) to compare.

Each journey of the sample catalog gets a state machine in moto that does not run (what an
execution would do is not the question here): an event that starts a journey leaves an
execution to count, and nothing runs behind the test's back.
"""

from __future__ import annotations

import base64
import copy
import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends
from moto.ses.models import ses_backends
from moto.sns.models import sns_backends
from moto.stepfunctions.models import stepfunctions_backends

from baton import bootstrap
from baton.api import private, public
from baton.data.tables import ALL_TABLES
from baton.handlers import private_api, public_api, sms_inbound
from baton.journeys.catalog import load_catalog
from baton.settings import Settings
from infra.local.runtime import LambdaContext
from infra.names import ROUTES, Access

REGION = "us-east-1"
ACCOUNT = "123456789012"
ROOT = Path(__file__).resolve().parents[2]
STATE_MACHINE_PREFIX = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:Baton-"
_IDLE_DEFINITION = json.dumps({"StartAt": "Idle", "States": {"Idle": {"Type": "Succeed"}}})
_APIGW = ROOT / "tests" / "events" / "apigw_rest_proxy.json"
_SNS = ROOT / "tests" / "events" / "sns_inbound_sms.json"


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any  # the parsed JSON body, or the text of an HTML page

    @property
    def fields(self) -> set[str]:
        if not isinstance(self.body, dict) or "error" not in self.body:
            return set()
        return {detail.get("field") for detail in self.body["error"]["details"]}


@functools.cache
def _journey_ids() -> tuple[str, ...]:
    return tuple(load_catalog(ROOT / "journeys").journeys)


def _context(name: str) -> Any:
    return LambdaContext(
        function_name=f"Baton-{name}",
        invoked_function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:Baton-{name}",
        memory_limit_in_mb=512,
        aws_request_id="req-1",
        timeout_s=15,
    )


# Every private route's path up to its first parameter: the private function's, as in the template.
_PRIVATE_PREFIXES = tuple(
    {route.path.split("{")[0].rstrip("/") for route in ROUTES if route.access is Access.PRIVATE}
)


def private_call(method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """One request to a private route, handed to the private API function as API Gateway hands
    it (the canonical proxy event): the status and the parsed JSON body."""
    event = json.loads(_APIGW.read_text())
    event.update(
        httpMethod=method,
        path=path,
        resource=path,
        body=None if body is None else json.dumps(body),
        queryStringParameters=None,
        multiValueQueryStringParameters=None,
    )
    event["requestContext"].update(httpMethod=method, path=f"/prod{path}", resourcePath=path)
    response = private_api.handler(event, _context("PrivateApiFunction"))
    return response["statusCode"], json.loads(response["body"])


class Baton:
    """The deployed handlers over moto; `aws` (the integration fixture) must be active."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._apigw = json.loads(_APIGW.read_text())
        self._sns = json.loads(_SNS.read_text())
        self.sfn = boto3.client("stepfunctions", region_name=REGION)
        for journey_id in _journey_ids():
            self.sfn.create_state_machine(
                name=f"Baton-{journey_id}",
                definition=_IDLE_DEFINITION,
                roleArn=f"arn:aws:iam::{ACCOUNT}:role/Baton-{journey_id}",
            )

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: str | bytes | None = None,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        """One request: `body` as JSON, or `raw` text (bytes go base64-encoded, as API Gateway
        passes a body that is not text). Private routes go to the private function."""
        event = copy.deepcopy(self._apigw)
        text: str | None = None if body is None else json.dumps(body)
        is_base64 = False
        if isinstance(raw, bytes):
            text, is_base64 = base64.b64encode(raw).decode(), True
        elif raw is not None:
            text = raw
        event.update(
            httpMethod=method,
            path=path,
            resource=path,
            body=text,
            isBase64Encoded=is_base64,
            queryStringParameters=query,
            multiValueQueryStringParameters={k: [v] for k, v in query.items()} if query else None,
        )
        event["headers"] = {**event["headers"], **(headers or {})}
        event["multiValueHeaders"] = {k: [v] for k, v in event["headers"].items()}
        event["requestContext"]["httpMethod"] = method
        event["requestContext"]["path"] = path
        is_public = not path.startswith(_PRIVATE_PREFIXES)
        handler = public_api.handler if is_public else private_api.handler
        response = handler(event, _context("PublicApiFunction" if is_public else "PrivateApiFunction"))
        payload = response["body"]
        try:
            parsed = json.loads(payload)
        except ValueError:
            parsed = payload
        return Answer(response["statusCode"], parsed)

    def text_in(self, sender: str, body: str, message_id: str) -> dict[str, Any]:
        """An inbound SMS, delivered as SNS delivers the two-way SMS JSON."""
        event = copy.deepcopy(self._sns)
        message = {
            "originationNumber": sender,
            "destinationNumber": "+15550100",
            "messageKeyword": "KEYWORD",
            "messageBody": body,
            "inboundMessageId": message_id,
            "previousPublishedMessageId": None,
        }
        event["Records"][0]["Sns"]["Message"] = json.dumps(message)
        answer: dict[str, Any] = sms_inbound.handler(event, _context("SmsInboundFunction"))
        return answer

    def snapshot(self) -> dict[str, Any]:
        """Everything a request could have changed: every table's items, every message sent,
        every execution started. Read from moto's own records: scanning every table through
        the API after each request would take most of the test's time."""
        dynamodb = dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION]
        tables = {
            spec.id: sorted(
                json.dumps(item.to_json(), sort_keys=True)
                for item in dynamodb.get_table(f"baton-test-{spec.id}").all_items()
            )
            for spec in ALL_TABLES
        }
        executions = sorted(
            execution.execution_arn
            for machine in stepfunctions_backends[DEFAULT_ACCOUNT_ID][REGION].state_machines
            for execution in machine.executions
        )
        return {
            "tables": tables,
            "emails": len(ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages),
            "texts": len(sns_backends[DEFAULT_ACCOUNT_ID][REGION].sms_messages),
            "executions": executions,
        }


def start(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Baton:
    """Point the handlers at moto and the sample catalog, with fresh caches."""
    monkeypatch.setenv("BATON_TOPICS", '["news", "offers"]')
    monkeypatch.setenv("BATON_JOURNEYS_DIR", str(ROOT / "journeys"))
    monkeypatch.setenv("BATON_STATE_MACHINE_ARN_PREFIX", STATE_MACHINE_PREFIX)
    boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity="example.com")
    _reset()
    return Baton(bootstrap.services().settings)


def start_with_ana(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Baton:
    """`start`, with one contact `ana` (an email and a phone) already stored."""
    stack = start(settings, monkeypatch)
    created = stack.call("PUT", "/v1/contacts/ana", {"email": "ana@example.com", "phone": "+14255550182"})
    assert created.status == 201, created
    return stack


def _reset() -> None:
    bootstrap.reset()
    private.app.cache_clear()
    public.app.cache_clear()


def stop() -> None:
    _reset()
