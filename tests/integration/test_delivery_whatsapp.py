"""WhatsApp through AWS End User Messaging Social (`socialmessaging` SendWhatsAppMessage). moto
does not implement the service: botocore's Stubber proves the request against the real model,
and the message bytes are a WhatsApp Cloud API text message. Pacing per sending number is
counted in moto's DynamoDB, as every Lambda shares it, on a fixed clock."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from baton.bootstrap import ProviderLimits, delivery_adapters
from baton.clock import FixedClock
from baton.consent.vocabulary import Channel
from baton.delivery.adapter import ChannelAdapter
from baton.delivery.exceptions import (
    DeliveryError,
    ProviderAmbiguous,
    ProviderRejected,
    ProviderThrottled,
)
from baton.delivery.message import OutboundMessage, Purpose
from baton.delivery.pacing import MAX_WAIT, THROUGHPUT_REACHED, DynamoPaceLedger, Pacer, ThroughputReached
from baton.delivery.ses_account import SesAccount, SesLimits
from baton.delivery.whatsapp import WhatsAppAdapter
from baton.settings import Settings
from infra.config import CampaignsConfig
from tests.integration.journeys import REGION

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
        ("ThrottledRequestException", 429, ProviderThrottled),  # the service model's throttling
        ("ThrottlingException", 400, ProviderThrottled),  # AWS's own, before the service
        ("InternalServiceException", 500, ProviderAmbiguous),  # of unknown effect: not retried blindly
        ("ValidationException", 400, ProviderRejected),
        ("AccessDeniedByMetaException", 403, ProviderRejected),
    ],
)
def test_whatsapp_errors_become_provider_errors(
    social: tuple[Any, Stubber], code: str, status: int, expected: type[DeliveryError]
) -> None:
    client, stubber = social
    stubber.add_client_error("send_whatsapp_message", service_error_code=code, http_status_code=status)

    with pytest.raises(expected) as raised:
        WhatsAppAdapter(client, phone_number_id=PHONE_NUMBER_ID, meta_api_version="v20.0").send(_message())

    # A throttled send is retried later (Step Functions, then a hold: R-REL-4), never dropped.
    assert raised.value.retryable is (expected is ProviderThrottled)


class Paced:
    """The WhatsApp adapter as the composition root wires it, on the shared pacing count in moto's
    DynamoDB, Meta's answers stubbed, on a clock that stands still: what a send waits is
    recorded, not slept."""

    def __init__(self, settings: Settings, client: Any, stubber: Stubber, clock: FixedClock) -> None:
        self.settings = settings.model_copy(update={"whatsapp_phone_number_id": PHONE_NUMBER_ID})
        self.client = client
        self.stubber = stubber
        self.clock = clock
        self.pauses: list[float] = []
        self.ledger = DynamoPaceLedger(settings.pacing_table)
        self.sent = 0

    def adapter(
        self, *, share: float = 1.0, max_wait: timedelta = MAX_WAIT, **settings: Any
    ) -> ChannelAdapter:
        """`share` and `max_wait` as the campaign function's settings give them; `settings`:
        cdk.json's `delivery` values."""
        pacer = Pacer(self.ledger, self.clock, pause=self.pauses.append, max_wait=max_wait, share=share)
        ses = SesLimits(SesAccount(_aws_client("sesv2"), self.clock), pacer, self.clock)
        limits = ProviderLimits(pacer, ses)

        def clients(service: str) -> Any:
            return self.client if service == "socialmessaging" else _aws_client(service)

        deployed = self.settings.model_copy(update=settings)
        return delivery_adapters(deployed, self.clock, clients, limits)[Channel.WHATSAPP]

    def accepts(self, count: int) -> None:
        """Meta takes the next `count` messages; one more call would fail the test."""
        for _ in range(count):
            self.sent += 1
            self.stubber.add_response(
                "send_whatsapp_message",
                {"messageId": f"wamid-{self.sent}"},
                {
                    "originationPhoneNumberId": PHONE_NUMBER_ID,
                    "message": ANY,
                    "metaApiVersion": self.settings.whatsapp_meta_api_version,
                },
            )


def _aws_client(service: str) -> Any:
    return boto3.client(service, region_name=REGION)  # type: ignore[call-overload]


@pytest.fixture
def paced(aws: Settings, clock: FixedClock, social: tuple[Any, Stubber]) -> Paced:
    clock.set(clock.now().replace(microsecond=0))  # at the start of a second
    client, stubber = social
    return Paced(aws, client, stubber, clock)


def test_whatsapp_sends_are_paced_at_metas_default_80_a_second_per_phone_number(paced: Paced) -> None:
    adapter = paced.adapter()
    paced.accepts(81)

    sent = [adapter.send(_message()) for _ in range(81)]

    # every one went out, but the 81st only after waiting for the next second
    assert sent == [f"wamid-{n}" for n in range(1, 82)]
    assert paced.pauses == [1.0]


def test_a_deployments_whatsapp_rate_paces_its_number(paced: Paced) -> None:
    adapter = paced.adapter(whatsapp_messages_per_second=3)  # cdk.json `delivery.whatsappMessagesPerSecond`
    paced.accepts(4)

    for _ in range(4):
        adapter.send(_message())

    assert paced.pauses == [1.0]  # the 4th waits for the next second


def test_a_whatsapp_message_with_no_room_in_time_is_not_handed_to_meta_and_is_retried_later(
    paced: Paced,
) -> None:
    adapter = paced.adapter(max_wait=timedelta(0))  # no waiting for the next second
    paced.accepts(80)

    for _ in range(80):
        adapter.send(_message())
    with pytest.raises(ThroughputReached) as raised:
        adapter.send(_message())  # Meta is not called: the stubber has no 81st answer

    assert (raised.value.code, raised.value.retryable) == (THROUGHPUT_REACHED, True)
    assert paced.pauses == []


def test_a_campaigns_whatsapp_sends_leave_the_rest_of_each_second_to_transactional_ones(
    paced: Paced,
) -> None:
    campaign = paced.adapter(share=CampaignsConfig().rate_share)  # cdk.json `campaigns.rateShare`
    transactional = paced.adapter()
    paced.accepts(77 + 1 + 3 + 1)

    for _ in range(77):
        campaign.send(_message())  # 97% of 80, rounded down
    campaign.send(_message())  # the campaign's part of this second is taken: it waits
    for _ in range(3):
        transactional.send(_message())  # the rest of the second is still free
    transactional.send(_message())  # and the second holds no more than 80

    assert paced.pauses == [1.0, 1.0]
