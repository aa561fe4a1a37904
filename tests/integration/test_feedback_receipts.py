"""Delivery feedback on the embedded AWS: SES events through FeedbackFunction's
handler, with the real suppression, consent, timeline and receipts tables in moto (R-SES-3)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_lambda_powertools import Metrics

from baton import bootstrap
from baton.bootstrap import Services
from baton.consent.vocabulary import Basis, Channel, ConsentStatus, Source
from baton.contacts.models import ContactInput
from baton.delivery.gate import Reason
from baton.delivery.message import OutboundMessage, Purpose
from baton.delivery.service import Dispatcher, Outcome
from baton.delivery.ses import SesEmailAdapter
from baton.feedback.models import ReceiptWaiter
from baton.feedback.repository import DynamoReceiptRepository
from baton.feedback.service import DELIVERY_EVENT
from baton.handlers import feedback
from baton.privacy import erase_contact
from baton.settings import Settings
from baton.suppression.models import SuppressionReason
from infra.local.runtime import LambdaContext

REGION = "us-east-1"
ACCOUNT = "123456789012"
EVENTS = Path(__file__).resolve().parent.parent / "events"
ANA = "ana@example.com"
UNSUBSCRIBE = "https://api.example/v1/unsubscribe/tok.sig"


@pytest.fixture
def services(aws: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Services]:
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    bootstrap.reset()
    services = bootstrap.services()
    services.contacts.upsert("ana", ContactInput(email=ANA, first_name="Ana"))
    services.consent.grant(
        "ana", Channel.EMAIL, "news", source=Source.IMPORT, basis=Basis.EXPRESS, address=ANA
    )
    yield services
    bootstrap.reset()


@pytest.fixture
def dispatcher(services: Services) -> Dispatcher:
    sesv2: Any = boto3.client("sesv2", region_name=REGION)
    sesv2.create_email_identity(EmailIdentity="acme.example")
    adapters = {Channel.EMAIL: SesEmailAdapter(sesv2, sender="news@acme.example", clock=services.clock)}
    return Dispatcher(
        adapters,
        services.suppression,
        services.consent,
        services.timeline,
        metrics=Metrics(namespace="BatonFeedbackTest"),
        clock=services.clock,
    )


def _newsletter() -> OutboundMessage:
    return OutboundMessage.email(
        to=ANA,
        purpose=Purpose.MARKETING,
        subject="News",
        text=f"News. Unsubscribe: {UNSUBSCRIBE}",
        topic="news",
        unsubscribe_url=UNSUBSCRIBE,
    )


def _event(name: str, message_id: str) -> dict[str, Any]:
    event: dict[str, Any] = copy.deepcopy(json.loads((EVENTS / name).read_text()))
    event["detail"]["mail"]["messageId"] = message_id
    return event


def _invoke(event: dict[str, Any]) -> dict[str, Any]:
    context = LambdaContext(
        function_name="Baton-FeedbackFunction",
        invoked_function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:Baton-FeedbackFunction",
        memory_limit_in_mb=512,
        aws_request_id="req-1",
        timeout_s=15,
    )
    result: dict[str, Any] = feedback.handler(event, context)
    return result


def test_r_ses_3_a_hard_bounce_suppresses_the_address_and_the_next_send_is_refused(
    services: Services, dispatcher: Dispatcher
) -> None:
    first = dispatcher.send("ana", _newsletter())
    assert first.outcome == Outcome.SENT
    assert first.provider_message_id is not None

    assert _invoke(_event("ses_bounce.json", first.provider_message_id)) == {"handled": 1, "receipts": 1}
    second = dispatcher.send("ana", _newsletter())

    assert (second.outcome, second.reason) == (Outcome.REFUSED, Reason.SUPPRESSED)
    entry = services.suppression.check(Channel.EMAIL, ANA)
    assert entry is not None
    assert entry.reason == SuppressionReason.HARD_BOUNCE
    bounced = [e for e in services.timeline.all("ana") if e.kind == DELIVERY_EVENT]
    assert [(e.detail["status"], e.detail["provider_message_id"]) for e in bounced] == [
        ("bounced", first.provider_message_id)
    ]


def test_r_ses_3_a_complaint_revokes_marketing_email_consent_once(
    services: Services, dispatcher: Dispatcher
) -> None:
    sent = dispatcher.send("ana", _newsletter())
    assert sent.provider_message_id is not None
    complaint = _event("ses_complaint.json", sent.provider_message_id)

    _invoke(complaint)
    entries = len(services.consent.entries("ana"))
    again = _invoke(complaint)  # EventBridge delivers at least once

    state = services.consent.state("ana", Channel.EMAIL, "news")
    assert state is not None
    assert state.status == ConsentStatus.REVOKED
    assert services.consent.entries("ana")[-1].source == Source.COMPLAINT
    assert again == {"handled": 0, "receipts": 1}
    assert len(services.consent.entries("ana")) == entries
    assert dispatcher.send("ana", _newsletter()).outcome == Outcome.REFUSED


def test_an_event_that_is_no_receipt_changes_nothing(services: Services) -> None:
    queued = json.loads((EVENTS / "eum_sms_queued.json").read_text())

    assert _invoke(queued) == {"handled": 0, "receipts": 0}


def test_erasure_removes_the_contacts_receipt_waiters(services: Services) -> None:
    receipts = DynamoReceiptRepository(services.settings.receipts_table)
    waiter = services.clock.now()

    receipts.put(
        ReceiptWaiter(
            provider_message_id="m-1",
            contact_id="ana",
            journey="notice",
            execution="arn:aws:states:us-east-1:123456789012:execution:Baton-notice:n-1",
            execution_name="n-1",
            step="tell",
            channel="sms",
            token="t-1",
            started_at=waiter,
            timeout_at=waiter,
        ),
        waiter,
    )

    report = erase_contact(services, "ana")

    assert report.receipts_removed == 1
    assert receipts.get("m-1") is None
