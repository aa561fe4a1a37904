"""Voice calls through AWS End User Messaging (`pinpoint-sms-voice-v2` `SendVoiceMessage`): the
template's text read out by a neural voice chosen by the message's locale."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar, cast

from botocore.exceptions import BotoCoreError, ClientError

from baton.consent.vocabulary import Channel
from baton.delivery.adapter import ChannelAdapter
from baton.delivery.eum import message_context
from baton.delivery.exceptions import translate
from baton.delivery.message import OutboundMessage
from baton.messages.rendering import locale_chain

if TYPE_CHECKING:
    from mypy_boto3_pinpoint_sms_voice_v2.client import PinpointSMSVoiceV2Client
    from mypy_boto3_pinpoint_sms_voice_v2.literals import VoiceIdType
    from mypy_boto3_pinpoint_sms_voice_v2.type_defs import SendVoiceMessageRequestTypeDef


class EumVoiceAdapter(ChannelAdapter):
    channel: ClassVar[Channel] = Channel.VOICE
    provider: ClassVar[str] = "eum-voice"

    def __init__(
        self,
        client: PinpointSMSVoiceV2Client,
        *,
        origination_identity: str,
        configuration_set: str | None = None,
        voices: Mapping[str, str] | None = None,
        max_price_per_minute: str | None = None,
        time_to_live_seconds: int | None = None,
    ) -> None:
        self._client = client
        self._origination_identity = origination_identity
        self._configuration_set = configuration_set or None
        self._voices = dict(voices or {})  # locale -> VoiceId (`pt-BR` -> `CAMILA`)
        self._max_price = max_price_per_minute
        self._time_to_live = time_to_live_seconds

    def send(self, message: OutboundMessage) -> str:
        try:
            response = self._client.send_voice_message(**self.request(message))
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, self.provider) from exc
        return response["MessageId"]

    def request(self, message: OutboundMessage) -> SendVoiceMessageRequestTypeDef:
        request: SendVoiceMessageRequestTypeDef = {
            "DestinationPhoneNumber": message.to,
            "OriginationIdentity": self._origination_identity,
            "MessageBody": message.text,
            "MessageBodyTextType": "TEXT",
            "Context": message_context(message),
        }
        voice = self._voice(message.locale)
        if voice:
            request["VoiceId"] = cast("VoiceIdType", voice)
        if self._configuration_set:
            request["ConfigurationSetName"] = self._configuration_set
        if self._max_price:
            request["MaxPricePerMinute"] = self._max_price
        if self._time_to_live:
            request["TimeToLive"] = self._time_to_live
        return request

    def _voice(self, locale: str | None) -> str | None:
        # No voice for the locale: the service picks its default (English).
        return next((self._voices[each] for each in locale_chain(locale) if each in self._voices), None)
