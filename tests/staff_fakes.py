"""Fakes for staff emails in unit tests: an email adapter that keeps what it sent (or fails as
told) and a built-in counter that keeps what it counted."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import ClassVar

from baton.consent.vocabulary import Channel
from baton.delivery.adapter import ChannelAdapter
from baton.delivery.exceptions import DeliveryError
from baton.delivery.message import OutboundMessage


class Email(ChannelAdapter):
    channel: ClassVar[Channel] = Channel.EMAIL
    provider: ClassVar[str] = "ses"

    def __init__(self, failure: Callable[[OutboundMessage], DeliveryError | None] | None = None) -> None:
        """`failure(message)`: the error to raise for that message, or None to send it."""
        self.sent: list[OutboundMessage] = []
        self.failure = failure

    def send(self, message: OutboundMessage) -> str:
        error = self.failure(message) if self.failure is not None else None
        if error is not None:
            raise error
        self.sent.append(message)
        return f"ses-{len(self.sent)}"


@dataclass
class Counter:
    counts: list[tuple[str, str, str, date]] = field(default_factory=list)

    def counted(self, builtin_id: str, measure: str, channel: str, day: date) -> None:
        self.counts.append((builtin_id, measure, channel, day))
