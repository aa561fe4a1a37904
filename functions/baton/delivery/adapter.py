"""The one interface every channel adapter implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from baton.consent.vocabulary import Channel
from baton.delivery.message import OutboundMessage


class ChannelAdapter(ABC):
    """Hands a message to a provider. Raises `ProviderRejected` or `ProviderUnavailable`."""

    channel: ClassVar[Channel]
    provider: ClassVar[str]  # recorded on the timeline with the provider message id

    @abstractmethod
    def send(self, message: OutboundMessage) -> str:
        """Send `message`; return the provider's message id."""
