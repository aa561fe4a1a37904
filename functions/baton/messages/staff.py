"""Built-in emails to staff (a queue's hand-off notice, an owner's review digest): through the
SES adapter, with no contact, no consent gate and no timeline (the reader is staff, not a
contact), so each is counted straight into the figures under its built-in id.

Its SES tags name the built-in, never a journey, so its receipts are counted as the built-in's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from baton.clock import Clock
from baton.consent.vocabulary import Channel
from baton.delivery.adapter import ChannelAdapter
from baton.delivery.exceptions import DeliveryError, ProviderAmbiguous
from baton.delivery.message import OutboundMessage, Purpose
from baton.delivery.ports import BuiltInCounter
from baton.messages import builtins
from baton.messages.builtins import BuiltIn

# Figures measures (`baton.figures.projection`): `unknown` is a send the provider may have taken.
SENT: Final = "sent"
FAILED: Final = "failed"
UNKNOWN: Final = "unknown"


class StaffMail:
    """One built-in message to staff addresses; `send` counts each attempt as sent, failed or
    unknown (an answer lost after the request may have reached SES)."""

    def __init__(
        self,
        email: ChannelAdapter,
        builtin: BuiltIn,
        *,
        counter: BuiltInCounter | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._email = email
        self.builtin = builtin
        self._counter = counter
        self._clock = clock

    def send(self, *, to: str, subject: str, text: str, tags: Mapping[str, str] | None = None) -> str:
        """The provider's message id. Raises the adapter's `DeliveryError` (counted first)."""
        message = OutboundMessage.email(
            to=to,
            purpose=Purpose.TRANSACTIONAL,
            subject=subject,
            text=text,
            tags={**(tags or {}), **builtins.tags(self.builtin)},
        )
        try:
            provider_id = self._email.send(message)
        except DeliveryError as exc:
            self._count(UNKNOWN if isinstance(exc, ProviderAmbiguous) else FAILED)
            raise
        self._count(SENT)
        return provider_id

    def _count(self, measure: str) -> None:
        if self._counter is not None and self._clock is not None:
            self._counter.counted(self.builtin.value, measure, Channel.EMAIL.value, self._clock.now().date())
