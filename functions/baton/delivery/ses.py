"""Email through Amazon SES v2 `SendEmail` with raw MIME content (headers under Baton's control),
within the account's limits (R-SES-1, `baton.delivery.ses_account`)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, ClassVar

from botocore.exceptions import BotoCoreError, ClientError

from baton.clock import Clock, SystemClock
from baton.consent.vocabulary import Channel
from baton.delivery.adapter import ChannelAdapter
from baton.delivery.exceptions import translate
from baton.delivery.message import OutboundMessage
from baton.delivery.mime import build_email
from baton.delivery.ses_account import SesLimits

if TYPE_CHECKING:  # the stubs are a dev dependency, not shipped to Lambda
    from mypy_boto3_sesv2.client import SESV2Client
    from mypy_boto3_sesv2.type_defs import MessageTagTypeDef, SendEmailRequestTypeDef

_TAG_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
_TAG_MAX = 256


class SesEmailAdapter(ChannelAdapter):
    channel: ClassVar[Channel] = Channel.EMAIL
    provider: ClassVar[str] = "ses"

    def __init__(
        self,
        client: SESV2Client,
        *,
        sender: str,
        sender_name: str | None = None,
        reply_to: str | None = None,
        configuration_set: str | None = None,
        clock: Clock | None = None,
        limits: SesLimits | None = None,
    ) -> None:
        """`limits`: the account's quota, rate and sandbox, checked before every email (the
        composition root always gives them; a test of the request alone may leave them out)."""
        self._client = client
        self._limits = limits
        self._sender = sender
        self._sender_name = sender_name
        self._reply_to = reply_to
        self._configuration_set = configuration_set or None
        self._clock = clock or SystemClock()

    def send(self, message: OutboundMessage) -> str:
        if self._limits is not None:
            self._limits.before_send(message.to)  # raises when SES must not be called now
        mime = build_email(
            message,
            sender=self._sender,
            sender_name=self._sender_name,
            reply_to=self._reply_to,
            sent_at=self._clock.now(),
        )
        request: SendEmailRequestTypeDef = {
            "FromEmailAddress": self._sender,
            "Destination": {"ToAddresses": [message.to]},
            "Content": {"Raw": {"Data": mime.as_bytes()}},
            "EmailTags": email_tags(message),
        }
        if self._configuration_set:
            request["ConfigurationSetName"] = self._configuration_set
        try:
            response = self._client.send_email(**request)
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, self.provider) from exc
        return response["MessageId"]


def email_tags(message: OutboundMessage) -> list[MessageTagTypeDef]:
    """SES message tags (they reach SES events): purpose, topic and the message's own tags,
    reduced to the characters SES accepts."""
    tags: dict[str, str] = {"purpose": str(message.purpose)}
    if message.topic:
        tags["topic"] = message.topic
    tags.update(message.tags)
    return [
        {"Name": _tag_text(name), "Value": _tag_text(value)} for name, value in tags.items() if name and value
    ]


def _tag_text(text: str) -> str:
    return _TAG_UNSAFE.sub("_", text)[:_TAG_MAX]
