"""SMS through AWS End User Messaging SMS (`pinpoint-sms-voice-v2` `SendTextMessage`), the
recommended production route: origination identities, configuration sets with event
destinations, and its own opt-out lists. Paced per origination identity in message parts per
second (R-EUM-1, `baton.delivery.throughput`)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, ClassVar, Final

from botocore.exceptions import BotoCoreError, ClientError

from baton.consent.vocabulary import Channel
from baton.delivery.adapter import ChannelAdapter
from baton.delivery.exceptions import translate
from baton.delivery.message import MESSAGE_TAG, OutboundMessage, Purpose
from baton.delivery.pacing import Pacer
from baton.delivery.throughput import Rate, identity_rate
from baton.sms.segments import count_segments

if TYPE_CHECKING:
    from mypy_boto3_pinpoint_sms_voice_v2.client import PinpointSMSVoiceV2Client
    from mypy_boto3_pinpoint_sms_voice_v2.type_defs import SendTextMessageRequestTypeDef

_WHITESPACE = re.compile(r"\s")  # context keys may not contain any
_CONTEXT_MAX_ENTRIES = 5  # the service model's limit
_CONTEXT_MAX_KEY = 100
_CONTEXT_MAX_VALUE = 800
# Kept whatever else is cut, in this order: Baton's message id settles a send whose answer was
# lost; the journey, step and variant place each receipt in the figures. Purpose and topic come
# next: a journey send's are its journey's, so they are what a variant's run leaves out.
CONTEXT_FIRST: Final = (MESSAGE_TAG, "journey", "step", "variant")


class EumSmsAdapter(ChannelAdapter):
    channel: ClassVar[Channel] = Channel.SMS
    provider: ClassVar[str] = "eum"

    def __init__(
        self,
        client: PinpointSMSVoiceV2Client,
        *,
        origination_identity: str,
        configuration_set: str | None = None,
        max_price: str | None = None,
        time_to_live_seconds: int | None = None,
        pacer: Pacer | None = None,
        rate: Rate | None = None,
    ) -> None:
        """`pacer`: the shared count that holds the identity to `rate` (by default the rate its
        number shows, else the slowest); the composition root always gives one."""
        self._client = client
        self._origination_identity = origination_identity
        self._pacer = pacer
        self._rate = rate or identity_rate(origination_identity, {})
        self._configuration_set = configuration_set or None
        self._max_price = max_price
        self._time_to_live = time_to_live_seconds

    def send(self, message: OutboundMessage) -> str:
        if self._pacer is not None:
            # R-EUM-1 counts parts, not messages: a 2-part text takes two parts' room.
            parts = count_segments(message.text).parts
            self._pacer.reserve(self.provider, self._origination_identity, parts, self._rate)
        try:
            response = self._client.send_text_message(**self.request(message))
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, self.provider) from exc
        return response["MessageId"]

    def request(self, message: OutboundMessage) -> SendTextMessageRequestTypeDef:
        request: SendTextMessageRequestTypeDef = {
            "DestinationPhoneNumber": message.to,
            "OriginationIdentity": self._origination_identity,
            "MessageBody": message.text,
            "MessageType": "PROMOTIONAL" if message.purpose == Purpose.MARKETING else "TRANSACTIONAL",
            # Context comes back on every delivery event: it ties receipts to the send.
            "Context": message_context(message),
        }
        if self._configuration_set:
            request["ConfigurationSetName"] = self._configuration_set
        if self._max_price:
            request["MaxPrice"] = self._max_price
        if self._time_to_live:
            request["TimeToLive"] = self._time_to_live
        return request


def message_context(message: OutboundMessage) -> dict[str, str]:
    """The `Context` of an End User Messaging send (it comes back on every delivery event):
    what its receipts are read by first (`CONTEXT_FIRST`), then purpose, topic and the message's
    other tags, within the service model's limits (five entries)."""
    context: dict[str, str] = {}
    entries = [
        *((name, message.tags.get(name, "")) for name in CONTEXT_FIRST),
        ("purpose", str(message.purpose)),
        ("topic", message.topic or ""),
        *message.tags.items(),
    ]
    for key, value in entries:
        name = _WHITESPACE.sub("_", key.strip())[:_CONTEXT_MAX_KEY]
        if name and value.strip() and name not in context:
            context[name] = value.strip()[:_CONTEXT_MAX_VALUE]
    return dict(list(context.items())[:_CONTEXT_MAX_ENTRIES])
