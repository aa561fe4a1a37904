"""SMS through AWS End User Messaging (`pinpoint-sms-voice-v2`). moto does not implement the
service, so botocore's Stubber proves the request against the real service model."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from baton.delivery.eum import EumSmsAdapter
from baton.delivery.exceptions import ProviderAmbiguous, ProviderRejected, ProviderUnavailable
from baton.delivery.message import OutboundMessage, Purpose

POOL = "arn:aws:sms-voice:us-east-1:111122223333:pool/pool-0123456789abcdef"


@pytest.fixture
def eum() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client(
        "pinpoint-sms-voice-v2",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def _message(purpose: Purpose, tags: dict[str, str] | None = None) -> OutboundMessage:
    return OutboundMessage.sms(
        to="+15555550100",
        purpose=purpose,
        text="Acme: 20% off. Reply STOP to opt out.",
        topic="offers",
        tags=tags,
    )


def test_marketing_text_is_promotional_from_the_origination_identity_with_configuration_set(
    eum: tuple[Any, Stubber],
) -> None:
    client, stubber = eum
    stubber.add_response(
        "send_text_message",
        {"MessageId": "eum-1"},
        {
            "DestinationPhoneNumber": "+15555550100",
            "OriginationIdentity": POOL,
            "MessageBody": "Acme: 20% off. Reply STOP to opt out.",
            "MessageType": "PROMOTIONAL",
            "ConfigurationSetName": "baton-sms",
            "Context": {"purpose": "marketing", "topic": "offers", "journey": "may-offers"},
            "MaxPrice": "0.05",
            "TimeToLive": 3600,
        },
    )
    adapter = EumSmsAdapter(
        client,
        origination_identity=POOL,
        configuration_set="baton-sms",
        max_price="0.05",
        time_to_live_seconds=3600,
    )

    assert adapter.send(_message(Purpose.MARKETING, {"journey": "may-offers"})) == "eum-1"


@pytest.mark.parametrize(
    "purpose", [Purpose.TRANSACTIONAL, Purpose.CONFIRMATION, Purpose.OPT_OUT_CONFIRMATION]
)
def test_other_texts_are_transactional_and_optional_fields_are_left_out(
    eum: tuple[Any, Stubber], purpose: Purpose
) -> None:
    client, stubber = eum
    stubber.add_response(
        "send_text_message",
        {"MessageId": "eum-2"},
        {
            "DestinationPhoneNumber": "+15555550100",
            "OriginationIdentity": POOL,
            "MessageBody": "Acme: 20% off. Reply STOP to opt out.",
            "MessageType": "TRANSACTIONAL",
            "Context": {"purpose": str(purpose), "topic": "offers"},
        },
    )

    assert EumSmsAdapter(client, origination_identity=POOL).send(_message(purpose)) == "eum-2"


def test_context_keeps_within_the_service_limit_of_five_entries(eum: tuple[Any, Stubber]) -> None:
    client, _ = eum
    tags = {f"tag {n}": f"value {n}" for n in range(10)}

    context = EumSmsAdapter(client, origination_identity=POOL).request(_message(Purpose.MARKETING, tags))[
        "Context"
    ]

    assert len(context) == 5
    assert all(" " not in key for key in context)


def test_a_split_runs_text_keeps_its_message_id_journey_step_and_variant_in_the_five_entries(
    eum: tuple[Any, Stubber],
) -> None:
    client, stubber = eum
    tags = {
        "baton_message_id": "m-1",
        "journey": "may-offers",
        "step": "short-offer",
        "execution": "arn:aws:states:us-east-1:1:execution:Baton-may-offers:x",
        "variant": "short",
    }
    stubber.add_response(
        "send_text_message",
        {"MessageId": "eum-3"},
        {
            "DestinationPhoneNumber": "+15555550100",
            "OriginationIdentity": POOL,
            "MessageBody": "Acme: 20% off. Reply STOP to opt out.",
            "MessageType": "PROMOTIONAL",
            # what the receipts are read by; the topic is the journey's, so it is what is left out
            "Context": {
                "baton_message_id": "m-1",
                "journey": "may-offers",
                "step": "short-offer",
                "variant": "short",
                "purpose": "marketing",
            },
        },
    )

    assert EumSmsAdapter(client, origination_identity=POOL).send(_message(Purpose.MARKETING, tags)) == "eum-3"


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("ThrottlingException", 400, ProviderUnavailable),
        ("InternalServerException", 500, ProviderAmbiguous),  # of unknown effect: not retried blindly
        ("ConflictException", 400, ProviderRejected),  # e.g. the destination opted out
        ("ValidationException", 400, ProviderRejected),
        ("ServiceQuotaExceededException", 402, ProviderRejected),
        ("ResourceNotFoundException", 404, ProviderRejected),
    ],
)
def test_eum_errors_become_provider_errors(
    eum: tuple[Any, Stubber], code: str, status: int, expected: type[Exception]
) -> None:
    client, stubber = eum
    stubber.add_client_error("send_text_message", service_error_code=code, http_status_code=status)

    with pytest.raises(expected):
        EumSmsAdapter(client, origination_identity=POOL).send(_message(Purpose.MARKETING))
