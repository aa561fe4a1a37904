"""`confirm_delivery` on the embedded AWS (issue 4, K4): moto's executing Step Functions runs
the compiled step, whose tasks call the real JourneyStepFunction handler; receipts go through
the real FeedbackFunction handler, and SendTaskSuccess resumes the execution. An SMS whose
receipt says failed fails over to email; an email whose delivery is confirmed ends the step."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.awslambda.models import LambdaBackend
from moto.core.config import default_user_config
from moto.sns.models import sns_backends

from baton import bootstrap
from baton.contacts.models import ContactInput
from baton.handlers import feedback, journey_step
from baton.journeys.catalog import load_catalog
from baton.settings import Settings
from baton.triggers import wiring
from infra.journeys.compiler import render_definition
from infra.local.runtime import LambdaContext
from tests.integration.conftest import REGION

ACCOUNT = "123456789012"  # moto's default account
STEP_FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:Baton-JourneyStepFunction"
EVENTS = Path(__file__).resolve().parents[1] / "events"
PHONE = "+14155550100"
HEADER = """\
owner: ops@example.com
purpose: transactional
review_by: 2027-03-01
"""
NOTICE = f"""\
journey: notice
{HEADER}trigger: {{event: order.shipped}}
steps:
  - id: tell
    send: {{template: notice, channels: [sms, email], confirm_delivery: 10m}}
"""
QUICK = f"""\
journey: quick
{HEADER}trigger: {{event: order.shipped}}
steps:
  - id: tell
    send: {{template: notice, channels: [sms], confirm_delivery: 2s}}
"""
TEMPLATE = f"""\
template: notice
{HEADER}locales:
  en:
    sms: {{text: "Your order shipped."}}
    email: {{subject: "Shipped", text: "Your order shipped."}}
"""


def _context(name: str) -> Any:
    return LambdaContext(
        function_name=name,
        invoked_function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}",
        memory_limit_in_mb=512,
        aws_request_id="req-1",
        timeout_s=15,
    )


def _wait_for(check: Callable[[], Any], timeout_s: float = 10) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.02)
    raise AssertionError("timed out waiting")


@pytest.fixture
def sfn(aws: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "notice.yaml").write_text(TEMPLATE, encoding="utf-8")
    for name, text in {"notice.yaml": NOTICE, "quick.yaml": QUICK}.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    monkeypatch.setitem(default_user_config, "stepfunctions", {"execute_state_machine": True})

    def invoke(
        backend: LambdaBackend, name: str, qualifier: Any, body: Any, headers: Any, response_headers: Any
    ) -> bytes:
        try:
            answer = journey_step.handler(json.loads(body), _context("Baton-JourneyStepFunction"))
        except Exception as exc:
            response_headers["x-amz-function-error"] = "Unhandled"
            answer = {"errorType": type(exc).__name__, "errorMessage": str(exc)}
        return json.dumps(answer).encode()

    monkeypatch.setattr(LambdaBackend, "invoke", invoke)
    boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity="example.com")
    monkeypatch.setenv("BATON_JOURNEYS_DIR", str(tmp_path))
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    bootstrap.reset()
    wiring.catalog.cache_clear()
    client = boto3.client("stepfunctions", region_name=REGION)
    for journey_id, journey in load_catalog(tmp_path).journeys.items():
        client.create_state_machine(
            name=f"Baton-{journey_id}",
            definition=json.dumps(render_definition(journey, function_arn=STEP_FUNCTION_ARN)),
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/Baton-{journey_id}",
        )
    bootstrap.services().contacts.upsert("ana", ContactInput(email="ana@example.com", phone=PHONE))
    yield client
    for machine in client.list_state_machines()["stateMachines"]:  # end the callback waits' threads
        for execution in client.list_executions(stateMachineArn=machine["stateMachineArn"])["executions"]:
            if execution["status"] == "RUNNING":
                client.stop_execution(executionArn=execution["executionArn"])
    bootstrap.reset()
    wiring.catalog.cache_clear()


def _start(sfn: Any, journey: str, name: str) -> str:
    arn: str = sfn.start_execution(
        stateMachineArn=f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:Baton-{journey}",
        name=name,
        input=json.dumps({"contact_id": "ana", "event": {"type": "order.shipped", "data": {}}, "steps": {}}),
    )["executionArn"]
    return arn


def _waiter(channel: str) -> str | None:
    """The provider message id a journey waits on for `channel`, once its waiter is stored."""
    table = bootstrap.services().settings.receipts_table
    items = boto3.client("dynamodb", region_name=REGION).scan(TableName=table, ConsistentRead=True)["Items"]
    for item in items:
        if "token" in item and item["channel"]["S"] == channel:
            return str(item["provider_message_id"]["S"])
    return None


def _receive(name: str, message_id: str) -> dict[str, Any]:
    event: dict[str, Any] = copy.deepcopy(json.loads((EVENTS / name).read_text()))
    if event["source"] == "aws.ses":
        event["detail"]["mail"]["messageId"] = message_id
    else:
        event["detail"]["messageId"] = message_id
    result: dict[str, Any] = feedback.handler(event, _context("Baton-FeedbackFunction"))
    return result


def _entered(sfn: Any, arn: str) -> list[str]:
    history = sfn.get_execution_history(executionArn=arn)["events"]
    names = [e["stateEnteredEventDetails"]["name"] for e in history if e["type"].endswith("StateEntered")]
    # The pass counters (`Count passes`, `Count pass <step>`) are bookkeeping, not the relay.
    return [name for name in names if not name.startswith("Count pass")]


def _done(sfn: Any, arn: str, timeout_s: float = 10) -> dict[str, Any]:
    def finished() -> dict[str, Any] | None:
        described: dict[str, Any] = sfn.describe_execution(executionArn=arn)
        return described if described["status"] != "RUNNING" else None

    result: dict[str, Any] = _wait_for(finished, timeout_s)
    return result


def test_a_failed_sms_receipt_fails_over_to_email_whose_delivery_ends_the_step(sfn: Any) -> None:
    arn = _start(sfn, "notice", "notice-1")
    sms_id = _wait_for(lambda: _waiter("sms"))
    assert PHONE in [number for number, _ in sns_backends[ACCOUNT][REGION].sms_messages.values()]

    _receive("eum_sms_failed.json", sms_id)
    email_id = _wait_for(lambda: _waiter("email"))
    _receive("ses_delivery.json", email_id)

    described = _done(sfn, arn)
    assert described["status"] == "SUCCEEDED"
    assert _entered(sfn, arn)[:9] == [
        "Send tell by sms",
        "tell by sms sent?",
        "Await receipt tell by sms",
        "tell by sms delivered?",
        "Send tell by email",
        "tell by email sent?",
        "Await receipt tell by email",
        "tell by email delivered?",
        "Finish journey",
    ]
    receipts = [
        e.detail for e in reversed(bootstrap.services().timeline.all("ana")) if e.kind == "delivery.event"
    ]
    # (each at the provider's own time, so compared without order)
    assert sorted((r["channel"], r["status"]) for r in receipts) == [
        ("email", "delivered"),
        ("sms", "failed"),
    ]


def test_no_receipt_in_time_ends_the_step_failed_with_the_timeout_on_the_timeline(sfn: Any) -> None:
    # given a 2 s confirm_delivery (moto runs callback timeouts on real time) and no receipt
    arn = _start(sfn, "quick", "quick-1")
    sms_id = _wait_for(lambda: _waiter("sms"))

    described = _done(sfn, arn, timeout_s=15)

    assert described["status"] == "FAILED"
    assert _entered(sfn, arn) == [
        "Send tell by sms",
        "tell by sms sent?",
        "Await receipt tell by sms",
        "Not delivered tell",
        "tell outcome",
        "tell failed",
    ]
    kinds = {e.kind: e.detail for e in bootstrap.services().timeline.all("ana")}
    assert kinds["delivery.timed_out"]["provider_message_id"] == sms_id
    assert kinds["journey.ended"]["outcome"] == "failed"
    # a receipt after the journey gave up resumes nothing
    assert _receive("eum_sms_delivered.json", sms_id) == {"handled": 1, "receipts": 1}
