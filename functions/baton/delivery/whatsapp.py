"""WhatsApp through AWS End User Messaging Social (`socialmessaging` `SendWhatsAppMessage`): the
body is a WhatsApp Cloud API message object, passed through to Meta as JSON bytes.

Meta delivers free-form text only inside the 24-hour customer-service window a person opens
by writing in; outside it only pre-approved WhatsApp templates are delivered (Meta reports the
failure later, on the status webhook). Baton sends the rendered text.

Paced per sending phone number in messages per second (Meta's Cloud API throughput,
`baton.delivery.throughput`), in the same shared count as SMS: every Lambda together never hands
Meta one number's messages faster than its rate.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from baton.consent.vocabulary import Channel
from baton.delivery.adapter import ChannelAdapter
from baton.delivery.exceptions import translate
from baton.delivery.message import OutboundMessage
from baton.delivery.pacing import Pacer
from baton.delivery.throughput import WHATSAPP_MESSAGES_PER_SECOND, Rate

MAX_CALLBACK_DATA = 512  # Meta's limit on biz_opaque_callback_data


class SocialMessagingClient(Protocol):
    """The one call Baton makes (boto3 has no published stubs for this service here)."""

    def send_whatsapp_message(
        self, *, originationPhoneNumberId: str, message: bytes, metaApiVersion: str
    ) -> Mapping[str, Any]: ...


class WhatsAppAdapter(ChannelAdapter):
    channel: ClassVar[Channel] = Channel.WHATSAPP
    provider: ClassVar[str] = "whatsapp"

    def __init__(
        self,
        client: SocialMessagingClient,
        *,
        phone_number_id: str,
        meta_api_version: str,
        pacer: Pacer | None = None,
        rate: Rate | None = None,
    ) -> None:
        """`pacer`: the shared count that holds the number to `rate` (by default Meta's default
        throughput); the composition root always gives one."""
        self._client = client
        self._phone_number_id = phone_number_id  # `phone-number-id-...` or its ARN
        self._meta_api_version = meta_api_version
        self._pacer = pacer
        self._rate = rate or Rate.per_second(WHATSAPP_MESSAGES_PER_SECOND)

    def send(self, message: OutboundMessage) -> str:
        if self._pacer is not None:
            # Meta counts messages per sending number, whatever their length.
            self._pacer.reserve(self.provider, self._phone_number_id, 1, self._rate)
        try:
            response = self._client.send_whatsapp_message(
                originationPhoneNumberId=self._phone_number_id,
                message=json.dumps(cloud_api_message(message), ensure_ascii=False).encode(),
                metaApiVersion=self._meta_api_version,
            )
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, self.provider) from exc
        return str(response["messageId"])


def cloud_api_message(message: OutboundMessage) -> dict[str, Any]:
    """The WhatsApp Cloud API text message for `message`."""
    body: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": message.to,
        "type": "text",
        "text": {"preview_url": False, "body": message.text},
    }
    callback = _callback_data(message)
    if callback:
        # Comes back on Meta's status events: ties delivery receipts to the send.
        body["biz_opaque_callback_data"] = callback
    return body


def _callback_data(message: OutboundMessage) -> str:
    context = {"purpose": str(message.purpose), **({"topic": message.topic} if message.topic else {})}
    context.update(message.tags)
    text = json.dumps(context, separators=(",", ":"), sort_keys=True)
    return text if len(text) <= MAX_CALLBACK_DATA else ""
