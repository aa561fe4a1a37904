"""Every email and SMS the local stack sent, read from moto's SES and SNS backends.

moto keeps sent messages without a time and for the whole process, so the outbox stamps each
message when it first sees it (after every invocation, on the local clock) and claims it for
its own stack: two stacks alive in one process (tests) never see each other's messages.
"""

from __future__ import annotations

import email.policy
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import BytesParser
from email.utils import getaddresses
from functools import partial
from typing import Any, Final

from moto.ses.models import ses_backends
from moto.sns.models import sns_backends

_CLAIM_LOCK: Final = threading.Lock()
# message key ("email:<id>" / "sms:<id>") -> the outbox that claimed it
_CLAIMED: dict[str, object] = {}
_BEFORE_ANY_STACK: Final = object()


@dataclass(frozen=True)
class SentMessage:
    channel: str  # "email" | "sms"
    to: str  # an email address, or an E.164 number
    sender: str
    subject: str | None
    body: str  # the text body of an email (its HTML when it has no text part)
    message_id: str  # what SES SendEmail / SNS Publish returned
    sent_at: datetime
    html: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "to": self.to,
            "from": self.sender,
            "subject": self.subject,
            "body": self.body,
            "message_id": self.message_id,
            "sent_at": self.sent_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "html": self.html,
            "headers": self.headers,
        }


class Outbox:
    def __init__(self, *, account_id: str, region: str, sms_sender: str, now: Callable[[], datetime]) -> None:
        self._account_id = account_id
        self._region = region
        self._sms_sender = sms_sender
        self._now = now
        self._messages: list[SentMessage] = []
        self._lock = threading.Lock()
        with _CLAIM_LOCK:
            for key, _ in self._pending():
                _CLAIMED.setdefault(key, _BEFORE_ANY_STACK)

    def collect(self) -> None:
        """Claim and stamp whatever was sent since the last look."""
        with _CLAIM_LOCK, self._lock:
            now = self._now()
            for key, parse in self._pending():
                if key not in _CLAIMED:
                    _CLAIMED[key] = self
                    self._messages.extend(parse(now))

    def messages(self) -> list[SentMessage]:
        self.collect()
        with self._lock:
            return list(self._messages)

    def last_sms_to(self, number: str) -> SentMessage | None:
        return next((m for m in reversed(self.messages()) if m.channel == "sms" and m.to == number), None)

    def _pending(self) -> list[tuple[str, Callable[[datetime], list[SentMessage]]]]:
        """(key, parser) of every message moto holds; the parser runs only for new ones."""
        ses = ses_backends[self._account_id][self._region]
        sns = sns_backends[self._account_id][self._region]
        found: list[tuple[str, Callable[[datetime], list[SentMessage]]]] = [
            (f"email:{sent.id}", partial(_emails, sent)) for sent in list(ses.sent_messages)
        ]
        found += [
            (f"sms:{message_id}", partial(self._sms, message_id, number, text))
            for message_id, (number, text) in list(sns.sms_messages.items())
        ]
        return found

    def _sms(self, message_id: str, number: str, text: str, now: datetime) -> list[SentMessage]:
        return [SentMessage("sms", number, self._sms_sender, None, text, message_id, now)]


def _emails(sent: Any, now: datetime) -> list[SentMessage]:
    """One outbox entry per recipient of a moto SES message (raw, simple or templated)."""
    if hasattr(sent, "raw_data"):
        # moto decoded the raw bytes as UTF-8; 8bit parts only parse right from bytes.
        message = BytesParser(policy=email.policy.default).parsebytes(sent.raw_data.encode())
        text_part = message.get_body(preferencelist=("plain",))
        html_part = message.get_body(preferencelist=("html",))
        html = _lines(html_part.get_content()) if html_part is not None else None
        text = _lines(text_part.get_content()) if text_part is not None else (html or "")
        subject = str(message["Subject"]) if message["Subject"] is not None else None
        sender = str(message["From"] or sent.source)
        headers = {name: str(value) for name, value in message.items()}
        recipients = _unique_addresses(sent.destinations)
        return [
            SentMessage("email", to, sender, subject, text, sent.id, now, html, headers) for to in recipients
        ]
    destinations = sent.destinations if isinstance(sent.destinations, dict) else {}
    addresses = [
        a for key in ("ToAddresses", "CcAddresses", "BccAddresses") for a in destinations.get(key, [])
    ]
    subject = getattr(sent, "subject", None)
    body = str(getattr(sent, "body", None) or getattr(sent, "template_data", ""))
    return [
        SentMessage("email", to, sent.source, subject, body, sent.id, now)
        for to in _unique_addresses(addresses)
    ]


def _lines(content: object) -> str:
    """A MIME part's text with the wire's CRLF line endings read as plain newlines."""
    return str(content).replace("\r\n", "\n")


def _unique_addresses(values: list[str]) -> list[str]:
    """moto adds the MIME To/Cc/Bcc to the SendEmail destinations: the same person twice."""
    seen: dict[str, str] = {}
    for _, address in getaddresses(values):
        if address and address.lower() not in seen:
            seen[address.lower()] = address
    return list(seen.values())
