"""What to send: one message to one address on one channel, with the purpose that decides the rules."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from baton.consent.vocabulary import Channel


class Purpose(StrEnum):
    TRANSACTIONAL = "transactional"  # the primary purpose is a transaction (R-CANSPAM-4)
    MARKETING = "marketing"  # needs granted consent for the channel and topic (R-TCPA-1, R-GDPR-1)
    CONFIRMATION = "confirmation"  # asks a pending consent to be confirmed (double opt-in)
    OPT_OUT_CONFIRMATION = "opt_out_confirmation"  # the one text right after an opt-out (R-TCPA-5)
    HELP_REPLY = "help_reply"  # the answer to the person's own HELP/AJUDA (R-CTIA-2)


# The tag that carries Baton's message id to the provider, whose events echo it back (SES
# message tags, End User Messaging `Context`): how an unknown outcome is settled.
MESSAGE_TAG = "baton_message_id"


def _no_tags() -> Mapping[str, str]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    channel: Channel
    to: str  # email address or E.164 number
    purpose: Purpose
    text: str  # the SMS text, or the plain-text part of an email
    subject: str | None = None  # email only
    html: str | None = None  # email only; without it the email is text only
    topic: str | None = None  # consent topic; required for marketing
    unsubscribe_url: str | None = None  # one-click URL for List-Unsubscribe (R-MBX-1)
    tags: Mapping[str, str] = field(default_factory=_no_tags)  # provider tags (journey, step, ...)
    locale: str | None = None  # the locale the content was rendered in (a voice is chosen by it)
    payload: Mapping[str, str] | None = None  # webhook only: the JSON object posted

    def __post_init__(self) -> None:
        if not self.text.strip():
            raise ValueError("a message needs text")
        if (self.channel == Channel.WEBHOOK) != (self.payload is not None):
            raise ValueError("a webhook message has a payload, and only a webhook message")
        if self.channel == Channel.EMAIL and not (self.subject and self.subject.strip()):
            raise ValueError("an email needs a subject")
        if self.channel != Channel.EMAIL and (self.subject is not None or self.html is not None):
            raise ValueError("subject and html are for email only")
        if self.unsubscribe_url is not None and not self.unsubscribe_url.startswith(("https://", "http://")):
            # R-MBX-1: a web one-click URL (a mailto alone is not enough). Deployed it is HTTPS
            # (API Gateway serves nothing else); plain http is the local stack on 127.0.0.1.
            raise ValueError("unsubscribe_url must be a web URL")

    @classmethod
    def email(
        cls,
        *,
        to: str,
        purpose: Purpose,
        subject: str,
        text: str,
        html: str | None = None,
        topic: str | None = None,
        unsubscribe_url: str | None = None,
        tags: Mapping[str, str] | None = None,
        locale: str | None = None,
    ) -> OutboundMessage:
        return cls(
            channel=Channel.EMAIL,
            to=to,
            purpose=purpose,
            text=text,
            subject=subject,
            html=html,
            topic=topic,
            unsubscribe_url=unsubscribe_url,
            tags=MappingProxyType(dict(tags or {})),
            locale=locale,
        )

    @classmethod
    def sms(
        cls,
        *,
        to: str,
        purpose: Purpose,
        text: str,
        topic: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> OutboundMessage:
        return cls(
            channel=Channel.SMS,
            to=to,
            purpose=purpose,
            text=text,
            topic=topic,
            tags=MappingProxyType(dict(tags or {})),
        )

    @classmethod
    def phone(
        cls,
        channel: Channel,
        *,
        to: str,
        purpose: Purpose,
        text: str,
        topic: str | None = None,
        tags: Mapping[str, str] | None = None,
        locale: str | None = None,
    ) -> OutboundMessage:
        """A text for a phone channel: SMS, a voice call's script, or a WhatsApp message."""
        if channel not in (Channel.SMS, Channel.VOICE, Channel.WHATSAPP):
            raise ValueError(f"{channel} is not a phone channel")
        return cls(
            channel=channel,
            to=to,
            purpose=purpose,
            text=text,
            topic=topic,
            tags=MappingProxyType(dict(tags or {})),
            locale=locale,
        )

    @classmethod
    def webhook(
        cls,
        *,
        to: str,
        purpose: Purpose,
        payload: Mapping[str, str],
        topic: str | None = None,
        tags: Mapping[str, str] | None = None,
        locale: str | None = None,
    ) -> OutboundMessage:
        """A JSON object for the configured webhook; `to` names the recipient (the contact id)."""
        body = MappingProxyType(dict(payload))
        return cls(
            channel=Channel.WEBHOOK,
            to=to,
            purpose=purpose,
            text=json.dumps(dict(body), ensure_ascii=False, sort_keys=True),
            topic=topic,
            tags=MappingProxyType(dict(tags or {})),
            locale=locale,
            payload=body,
        )

    @property
    def preview(self) -> str:
        """What the timeline shows: the subject of an email, the start of a text."""
        if self.subject is not None:
            return self.subject
        return self.text if len(self.text) <= 160 else self.text[:157] + "..."
