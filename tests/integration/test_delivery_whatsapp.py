"""WhatsApp through AWS End User Messaging Social (`socialmessaging` SendWhatsAppMessage). moto
does not implement the service: botocore's Stubber proves the request against the real model,
and the message bytes are a WhatsApp Cloud API text message."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from baton.consent.vocabulary import Channel
from baton.delivery.exceptions import (
    ProviderAmbiguous,
    ProviderRejected,
    ProviderThrottled,
)
from baton.delivery.message import OutboundMessage, Purpose
from baton.delivery.whatsapp import WhatsAppAdapter

PHONE_NUMBER_ID = "phone-number-id-0123456789abcdef0123456789abcdef"


@pytest.fixture
def social() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client(
        "socialmessaging",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def _message() -> OutboundMessage:
    return OutboundMessage.phone(
        Channel.WHATSAPP,
        to="+5511912345678",
        purpose=Purpose.TRANSACTIONAL,
        text="Seu pedido A-1 foi enviado.",
        tags={"journey": "order-shipped", "step": "shipped"},
    )


def test_whatsapp_text_goes_as_a_cloud_api_message_from_the_origination_phone_number(
    social: tuple[Any, Stubber],
) -> None:
    client, stubber = social
    stubber.add_response(
        "send_whatsapp_message",
        {"messageId": "wamid-1"},
        {"originationPhoneNumberId": PHONE_NUMBER_ID, "message": ANY, "metaApiVersion": "v20.0"},
    )
    calls: list[bytes] = []
    client.meta.events.register(
        "provide-client-params.socialmessaging.SendWhatsAppMessage",
        lambda params, **_: calls.append(params["message"]),
    )

    message_id = WhatsAppAdapter(client, phone_number_id=PHONE_NUMBER_ID, meta_api_version="v20.0").send(
        _message()
    )

    assert message_id == "wamid-1"
    (sent,) = calls
    assert isinstance(sent, bytes)
    assert json.loads(sent) == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "+5511912345678",
        "type": "text",
        "text": {"preview_url": False, "body": "Seu pedido A-1 foi enviado."},
        "biz_opaque_callback_data": json.dumps(
            {"journey": "order-shipped", "purpose": "transactional", "step": "shipped"},
            separators=(",", ":"),
        ),
    }


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("ThrottledRequestException", 429, ProviderThrottled),
        ("InternalServiceException", 500, ProviderAmbiguous),  # of unknown effect: not retried blindly
        ("ValidationException", 400, ProviderRejected),
        ("AccessDeniedByMetaException", 403, ProviderRejected),
    ],
)
def test_whatsapp_errors_become_provider_errors(
    social: tuple[Any, Stubber], code: str, status: int, expected: type[Exception]
) -> None:
    client, stubber = social
    stubber.add_client_error("send_whatsapp_message", service_error_code=code, http_status_code=status)

    with pytest.raises(expected):
        WhatsAppAdapter(client, phone_number_id=PHONE_NUMBER_ID, meta_api_version="v20.0").send(_message())
