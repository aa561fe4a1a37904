"""Voice calls through AWS End User Messaging (`pinpoint-sms-voice-v2` SendVoiceMessage). moto
does not implement the service: botocore's Stubber proves the request against the real model."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from baton.consent.vocabulary import Channel
from baton.delivery.exceptions import (
    ProviderAmbiguous,
    ProviderRejected,
    ProviderThrottled,
)
from baton.delivery.message import OutboundMessage, Purpose
from baton.delivery.voice import EumVoiceAdapter

POOL = "arn:aws:sms-voice:us-east-1:111122223333:pool/pool-0123456789abcdef"
VOICES = {"en": "JOANNA", "pt-BR": "CAMILA"}
TAGS = {"journey": "lead-nurture", "step": "call", "execution": "arn:aws:states:us-east-1:1:execution:x:y"}


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


def _call(locale: str | None, text: str = "Olá Ana, aqui é a Acme.") -> OutboundMessage:
    return OutboundMessage.phone(
        Channel.VOICE,
        to="+5511912345678",
        purpose=Purpose.MARKETING,
        text=text,
        topic="news",
        tags=TAGS,
        locale=locale,
    )


def test_voice_call_reads_the_templates_text_with_the_locales_voice_from_the_origination_identity(
    eum: tuple[Any, Stubber],
) -> None:
    client, stubber = eum
    stubber.add_response(
        "send_voice_message",
        {"MessageId": "voice-1"},
        {
            "DestinationPhoneNumber": "+5511912345678",
            "OriginationIdentity": POOL,
            "MessageBody": "Olá Ana, aqui é a Acme.",
            "MessageBodyTextType": "TEXT",
            "VoiceId": "CAMILA",
            "ConfigurationSetName": "baton-voice",
            "Context": {"purpose": "marketing", "topic": "news", **TAGS},
        },
    )
    adapter = EumVoiceAdapter(
        client, origination_identity=POOL, configuration_set="baton-voice", voices=VOICES
    )

    assert adapter.send(_call("pt-BR")) == "voice-1"


def test_a_locale_without_its_own_voice_falls_back_and_no_voice_leaves_the_services_default(
    eum: tuple[Any, Stubber],
) -> None:
    client, _ = eum
    adapter = EumVoiceAdapter(client, origination_identity=POOL, voices={"en": "JOANNA"})

    assert adapter.request(_call("en-GB"))["VoiceId"] == "JOANNA"
    assert "VoiceId" not in EumVoiceAdapter(client, origination_identity=POOL).request(_call("pt-BR"))


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("ThrottlingException", 400, ProviderThrottled),
        ("InternalServerException", 500, ProviderAmbiguous),  # of unknown effect: not retried blindly
        ("ConflictException", 400, ProviderRejected),  # the destination opted out
        ("ValidationException", 400, ProviderRejected),
    ],
)
def test_voice_errors_become_provider_errors(
    eum: tuple[Any, Stubber], code: str, status: int, expected: type[Exception]
) -> None:
    client, stubber = eum
    stubber.add_client_error("send_voice_message", service_error_code=code, http_status_code=status)

    with pytest.raises(expected):
        EumVoiceAdapter(client, origination_identity=POOL).send(_call("en"))
