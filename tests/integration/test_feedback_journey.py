"""`confirm_delivery` on the embedded AWS: moto's executing Step Functions runs
the compiled step, whose tasks call the real JourneyStepFunction handler; receipts go through
the real FeedbackFunction handler, and SendTaskSuccess resumes the execution. An SMS whose
receipt says failed fails over to email; an email whose delivery is confirmed ends the step.
The executions run under the local stack's scheduler: each call below returns once they have
moved on, and a receipt deadline passes only when the test moves the virtual clock past it."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.sns.models import sns_backends

from baton import bootstrap
from baton.contacts.models import ContactInput
from baton.handlers import feedback, journey_step
from baton.triggers import wiring
from tests.integration.journeys import ACCOUNT, REGION, JourneysOnMoto, lambda_context

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
    send: {{template: notice, channels: [sms], confirm_delivery: 30m}}
"""
TEMPLATE = f"""\
template: notice
{HEADER}locales:
  en:
    sms: {{text: "Your order shipped."}}
    email: {{subject: "Shipped", text: "Your order shipped."}}
"""


@pytest.fixture
def journeys(
    journeys_on_moto: JourneysOnMoto, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[JourneysOnMoto]:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "notice.yaml").write_text(TEMPLATE, encoding="utf-8")
    for name, text in {"notice.yaml": NOTICE, "quick.yaml": QUICK}.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity="example.com")
    monkeypatch.setenv("BATON_JOURNEYS_DIR", str(tmp_path))
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    bootstrap.reset()
    wiring.catalog.cache_clear()
    journeys_on_moto.deploy(tmp_path, journey_step.handler)
    bootstrap.services().contacts.upsert("ana", ContactInput(email="ana@example.com", phone=PHONE))
    yield journeys_on_moto
    bootstrap.reset()
    wiring.catalog.cache_clear()


def _start(journeys: JourneysOnMoto, journey: str, name: str) -> str:
    """Start the journey for Ana; it has sent and waits for the receipt when this returns."""
    return journeys.start(journey, name, contact_id="ana", event_type="order.shipped")


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
    result: dict[str, Any] = feedback.handler(event, lambda_context("Baton-FeedbackFunction"))
    return result


def test_a_failed_sms_receipt_fails_over_to_email_whose_delivery_ends_the_step(
    journeys: JourneysOnMoto,
) -> None:
    arn = _start(journeys, "notice", "notice-1")
    sms_id = _waiter("sms")
    assert sms_id is not None
    assert PHONE in [number for number, _ in sns_backends[ACCOUNT][REGION].sms_messages.values()]

    _receive("eum_sms_failed.json", sms_id)
    email_id = _waiter("email")
    assert email_id is not None
    _receive("ses_delivery.json", email_id)

    assert journeys.status(arn) == "SUCCEEDED"
    assert journeys.entered(arn)[:10] == [
        "Start",
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


def test_no_receipt_in_time_ends_the_step_failed_with_the_timeout_on_the_timeline(
    journeys: JourneysOnMoto,
) -> None:
    # given a 30 min confirm_delivery and no receipt
    arn = _start(journeys, "quick", "quick-1")
    sms_id = _waiter("sms")
    assert sms_id is not None
    journeys.advance("29m")
    assert journeys.status(arn) == "RUNNING"

    # when the 30 minutes are up
    journeys.advance("1m")

    assert journeys.status(arn) == "FAILED"
    assert journeys.entered(arn) == [
        "Start",
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
