"""Channel adapters: request shapes (validated against the real service models by botocore's
Stubber) and how provider errors are classified (by code and status, never by message text)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ParamValidationError, ReadTimeoutError
from botocore.stub import ANY, Stubber

from baton.clock import FixedClock
from baton.delivery.exceptions import (
    ProviderAmbiguous,
    ProviderRejected,
    ProviderThrottled,
    ProviderUnavailable,
    translate,
)
from baton.delivery.message import OutboundMessage, Purpose
from baton.delivery.ses import SesEmailAdapter
from baton.delivery.sns import SnsSmsAdapter

CREDENTIALS = {"region_name": "us-east-1", "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def sesv2() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("sesv2", **CREDENTIALS)  # type: ignore[call-overload]
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def sns() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("sns", **CREDENTIALS)  # type: ignore[call-overload]
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def _marketing_email() -> OutboundMessage:
    return OutboundMessage.email(
        to="ana@example.com",
        purpose=Purpose.MARKETING,
        subject="May news",
        text="Hello",
        html="<p>Hello</p>",
        topic="news",
        unsubscribe_url="https://api.example/v1/unsubscribe/t.s",
        tags={"journey": "may-news", "step": "send 1"},
    )


def _sms(purpose: Purpose) -> OutboundMessage:
    return OutboundMessage.sms(to="+15555550100", purpose=purpose, text="Acme: hello", topic="news")


def test_ses_sends_raw_mime_with_configuration_set_and_tags(sesv2: tuple[Any, Stubber]) -> None:
    client, stubber = sesv2
    stubber.add_response(
        "send_email",
        {"MessageId": "ses-1"},
        {
            "FromEmailAddress": "news@acme.example",
            "Destination": {"ToAddresses": ["ana@example.com"]},
            "Content": {"Raw": {"Data": ANY}},
            "ConfigurationSetName": "baton",
            "EmailTags": [
                {"Name": "purpose", "Value": "marketing"},
                {"Name": "topic", "Value": "news"},
                {"Name": "journey", "Value": "may-news"},
                {"Name": "step", "Value": "send_1"},  # SES allows only [A-Za-z0-9_-]
            ],
        },
    )
    adapter = SesEmailAdapter(
        client, sender="news@acme.example", configuration_set="baton", clock=FixedClock(NOW)
    )

    assert adapter.send(_marketing_email()) == "ses-1"


def test_ses_without_configuration_set_leaves_it_out(sesv2: tuple[Any, Stubber]) -> None:
    client, stubber = sesv2
    stubber.add_response(
        "send_email",
        {"MessageId": "ses-2"},
        {
            "FromEmailAddress": "news@acme.example",
            "Destination": {"ToAddresses": ["ana@example.com"]},
            "Content": {"Raw": {"Data": ANY}},
            "EmailTags": ANY,
        },
    )

    assert SesEmailAdapter(client, sender="news@acme.example").send(_marketing_email()) == "ses-2"


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("TooManyRequestsException", 429, ProviderUnavailable),
        ("LimitExceededException", 400, ProviderUnavailable),
        ("MessageRejected", 400, ProviderRejected),
        ("AccountSuspendedException", 400, ProviderRejected),
        ("NotFoundException", 404, ProviderRejected),
    ],
)
def test_ses_errors_become_provider_errors(
    sesv2: tuple[Any, Stubber], code: str, status: int, expected: type[Exception]
) -> None:
    client, stubber = sesv2
    stubber.add_client_error("send_email", service_error_code=code, http_status_code=status)

    with pytest.raises(expected) as caught:
        SesEmailAdapter(client, sender="news@acme.example").send(_marketing_email())
    assert caught.value.code == code  # type: ignore[attr-defined]
    assert isinstance(caught.value.__cause__, ClientError)


@pytest.mark.parametrize(
    ("purpose", "sms_type"),
    [
        (Purpose.MARKETING, "Promotional"),
        (Purpose.TRANSACTIONAL, "Transactional"),
        (Purpose.CONFIRMATION, "Transactional"),
        (Purpose.OPT_OUT_CONFIRMATION, "Transactional"),
    ],
)
def test_sns_publishes_to_the_number_with_the_sms_type(
    sns: tuple[Any, Stubber], purpose: Purpose, sms_type: str
) -> None:
    client, stubber = sns
    stubber.add_response(
        "publish",
        {"MessageId": "sns-1"},
        {
            "PhoneNumber": "+15555550100",
            "Message": "Acme: hello",
            "MessageAttributes": {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": sms_type}},
        },
    )

    assert SnsSmsAdapter(client).send(_sms(purpose)) == "sns-1"


def test_sns_adds_sender_id_and_origination_number_when_configured(sns: tuple[Any, Stubber]) -> None:
    client, stubber = sns
    stubber.add_response(
        "publish",
        {"MessageId": "sns-2"},
        {
            "PhoneNumber": "+15555550100",
            "Message": "Acme: hello",
            "MessageAttributes": {
                "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
                "AWS.SNS.SMS.SenderID": {"DataType": "String", "StringValue": "ACME"},
                "AWS.MM.SMS.OriginationNumber": {"DataType": "String", "StringValue": "+15555550199"},
            },
        },
    )
    adapter = SnsSmsAdapter(client, sender_id="ACME", origination_number="+15555550199")

    assert adapter.send(_sms(Purpose.TRANSACTIONAL)) == "sns-2"


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("Throttling", 400, ProviderThrottled),
        ("ThrottledException", 400, ProviderThrottled),
        # A 500 of unknown effect: the provider may have taken the message before it failed.
        ("InternalError", 500, ProviderAmbiguous),
        ("SomethingNew", 503, ProviderUnavailable),
        ("SomethingNew", 429, ProviderThrottled),
        ("InvalidParameter", 400, ProviderRejected),
        ("AuthorizationError", 403, ProviderRejected),
        ("SomethingNew", 400, ProviderRejected),
    ],
)
def test_client_errors_are_classified_by_code_and_status(
    code: str, status: int, expected: type[Exception]
) -> None:
    error = ClientError(
        {"Error": {"Code": code, "Message": "x"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Publish"
    )

    assert type(translate(error, "sns")) is expected


def test_error_message_text_never_decides() -> None:
    misleading = ClientError(
        {"Error": {"Code": "MessageRejected", "Message": "Throttling: rate exceeded, try later"}}, "SendEmail"
    )

    assert isinstance(translate(misleading, "ses"), ProviderRejected)


def test_network_errors_are_unavailable_or_ambiguous_and_bad_parameters_rejected() -> None:
    # never connected: safe to retry; connected but no answer: the message may be out
    assert isinstance(
        translate(EndpointConnectionError(endpoint_url="https://x"), "ses"), ProviderUnavailable
    )
    assert isinstance(translate(ReadTimeoutError(endpoint_url="https://x"), "ses"), ProviderAmbiguous)
    assert isinstance(translate(ParamValidationError(report="bad"), "ses"), ProviderRejected)
    assert ProviderUnavailable("ses", "x").retryable
    assert not ProviderRejected("ses", "x").retryable
