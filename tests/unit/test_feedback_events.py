"""Provider events parsed into receipts, from the canonical files in tests/events/."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from baton.consent.vocabulary import Channel
from baton.feedback.events import SES_ENGAGEMENT_DETAIL_TYPES, parse_eventbridge, parse_sns_sms_status
from baton.feedback.models import ReceiptStatus
from baton.handlers.feedback import receipts_of

EVENTS = Path(__file__).resolve().parent.parent / "events"


def _load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return loaded


def test_a_permanent_ses_bounce_is_a_hard_bounce_of_the_bounced_address() -> None:
    receipt = parse_eventbridge(_load("ses_bounce.json"))

    assert receipt is not None
    assert receipt.status == ReceiptStatus.BOUNCED
    assert receipt.channel == Channel.EMAIL
    assert receipt.provider_message_id == "0100018f-ses-message-bounce-000000"
    assert receipt.addresses == ("ana@example.com",)
    assert receipt.reason == "Permanent/General"
    assert receipt.delivered is False


def test_a_transient_ses_bounce_is_a_failed_delivery_not_a_hard_bounce() -> None:
    receipt = parse_eventbridge(_load("ses_bounce_transient.json"))

    assert receipt is not None
    assert receipt.status == ReceiptStatus.FAILED


def test_an_ses_complaint_names_the_complaining_address_and_its_feedback_id() -> None:
    receipt = parse_eventbridge(_load("ses_complaint.json"))

    assert receipt is not None
    assert receipt.status == ReceiptStatus.COMPLAINED
    assert receipt.addresses == ("ana@example.com",)
    assert receipt.feedback_id == "0100018f-complaint-feedback-000000"
    assert receipt.reason == "abuse"


def test_an_ses_delivery_is_delivered_with_the_provider_message_id() -> None:
    receipt = parse_eventbridge(_load("ses_delivery.json"))

    assert receipt is not None
    assert receipt.status == ReceiptStatus.DELIVERED
    assert receipt.provider_message_id == "0100018f-ses-message-delivery-000000"
    assert receipt.delivered is True


@pytest.mark.parametrize(
    ("name", "status"), [("ses_open.json", ReceiptStatus.OPENED), ("ses_click.json", ReceiptStatus.CLICKED)]
)
def test_an_ses_open_or_click_is_an_engagement_receipt_of_its_journey_step_not_a_delivery(
    name: str, status: ReceiptStatus
) -> None:
    event = _load(name)
    receipt = parse_eventbridge(event)

    assert event["detail-type"] == SES_ENGAGEMENT_DETAIL_TYPES[event["detail"]["eventType"]]
    assert receipt is not None
    assert receipt.status == status
    assert (receipt.journey, receipt.step) == ("welcome", "hello")
    assert receipt.addresses == ("ana@example.com",)
    assert receipt.at is not None
    assert receipt.delivered is False


def test_end_user_messaging_sms_delivered_and_unreachable() -> None:
    delivered = parse_eventbridge(_load("eum_sms_delivered.json"))
    failed = parse_eventbridge(_load("eum_sms_failed.json"))

    assert delivered is not None
    assert (delivered.channel, delivered.status) == (Channel.SMS, ReceiptStatus.DELIVERED)
    assert delivered.provider_message_id == "ed23196c-75ce-4727-93ee-7bf72b64998f"
    assert failed is not None
    assert (failed.status, failed.reason) == (ReceiptStatus.FAILED, "TEXT_UNREACHABLE")


def test_an_sms_still_queued_is_not_a_receipt() -> None:
    assert parse_eventbridge(_load("eum_sms_queued.json")) is None


def test_an_event_from_another_source_is_not_a_receipt() -> None:
    assert parse_eventbridge(_load("eventbridge_baton_event.json")) is None


def test_sns_sms_delivery_status_failure() -> None:
    receipt = parse_sns_sms_status((EVENTS / "sns_sms_delivery_status.json").read_text())

    assert receipt is not None
    assert receipt.provider == "sns-sms"
    assert receipt.status == ReceiptStatus.FAILED
    assert receipt.addresses == ("+5511912345678",)
    assert receipt.reason == "Phone is currently unreachable/unavailable"


def test_the_handler_reads_sns_status_records_from_a_cloudwatch_logs_subscription() -> None:
    line = json.dumps(_load("sns_sms_delivery_status.json"))
    data = {"logEvents": [{"id": "1", "timestamp": 0, "message": line}, {"id": "2", "message": "noise"}]}
    event = {"awslogs": {"data": base64.b64encode(gzip.compress(json.dumps(data).encode())).decode()}}

    (receipt,) = receipts_of(event)

    assert receipt.provider_message_id == "3c5ee6a1-1c8d-5d7e-9a2b-sns-sms-000000"


def test_the_same_report_has_the_same_key_and_the_key_holds_no_address() -> None:
    first = parse_eventbridge(_load("ses_bounce.json"))
    again = parse_eventbridge(_load("ses_bounce.json"))

    assert first is not None
    assert again is not None
    assert first.key == again.key
    assert "ana@example.com" not in first.key


def test_a_receipt_names_the_runs_variant_the_provider_echoed() -> None:
    # given a split run's send: its variant in the SES tags and in the End User Messaging context
    email = _load("ses_bounce.json")
    email["detail"]["mail"]["tags"]["variant"] = ["short"]
    text = _load("eum_sms_delivered.json")
    text["detail"]["context"] = {"journey": "welcome", "step": "hello", "variant": "long"}

    bounced, delivered = parse_eventbridge(email), parse_eventbridge(text)

    assert bounced is not None
    assert (bounced.journey, bounced.step, bounced.variant) == ("welcome", "hello", "short")
    assert delivered is not None
    assert (delivered.journey, delivered.step, delivered.variant) == ("welcome", "hello", "long")
    plain = parse_eventbridge(_load("ses_delivery.json"))
    assert plain is not None
    assert plain.variant is None
