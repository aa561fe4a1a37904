"""SMS through Amazon SNS `Publish` to a phone number (the default SMS route)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from botocore.exceptions import BotoCoreError, ClientError

from baton.consent.vocabulary import Channel
from baton.delivery.adapter import ChannelAdapter
from baton.delivery.exceptions import translate
from baton.delivery.message import OutboundMessage, Purpose

if TYPE_CHECKING:
    from mypy_boto3_sns.client import SNSClient
    from mypy_boto3_sns.type_defs import MessageAttributeValueTypeDef


class SnsSmsAdapter(ChannelAdapter):
    channel: ClassVar[Channel] = Channel.SMS
    provider: ClassVar[str] = "sns"

    def __init__(
        self,
        client: SNSClient,
        *,
        sender_id: str | None = None,
        origination_number: str | None = None,
    ) -> None:
        self._client = client
        self._sender_id = sender_id or None
        self._origination_number = origination_number or None

    def send(self, message: OutboundMessage) -> str:
        try:
            response = self._client.publish(
                PhoneNumber=message.to, Message=message.text, MessageAttributes=self.attributes(message)
            )
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, self.provider) from exc
        return response["MessageId"]

    def attributes(self, message: OutboundMessage) -> dict[str, MessageAttributeValueTypeDef]:
        # Promotional only for marketing: carriers and SNS treat the two types differently
        # (price, delivery priority, and quiet-hour handling in some countries).
        sms_type = "Promotional" if message.purpose == Purpose.MARKETING else "Transactional"
        attributes: dict[str, MessageAttributeValueTypeDef] = {
            "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": sms_type}
        }
        if self._sender_id:
            attributes["AWS.SNS.SMS.SenderID"] = {"DataType": "String", "StringValue": self._sender_id}
        if self._origination_number:
            attributes["AWS.MM.SMS.OriginationNumber"] = {
                "DataType": "String",
                "StringValue": self._origination_number,
            }
        return attributes
