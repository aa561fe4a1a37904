"""A delivery receipt as Baton understands it, whatever the provider, and a send waiting for one.

Every provider's event is parsed (`baton.feedback.events`) into one `Receipt`: which message
(the provider's message id, as the send returned it), on which channel, what happened, to which
addresses. A `ReceiptWaiter` is a journey's send step parked until its message's receipt
(`confirm_delivery`): stored under the provider message id in the receipts table.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from baton.clock import Timestamp
from baton.consent.vocabulary import Channel
from baton.messages.builtins import BuiltIn


class ReceiptStatus(StrEnum):
    DELIVERED = "delivered"  # the carrier or mailbox provider accepted it for the person
    FAILED = "failed"  # not delivered (a soft bounce after SES's retries, an unreachable number)
    BOUNCED = "bounced"  # a permanent (hard) bounce: the address is suppressed (R-SES-3)
    COMPLAINED = "complained"  # marked as spam: suppressed, marketing email consent revoked (R-SES-3)
    # Only with SES open/click tracking on (off by default): engagement, not delivery.
    OPENED = "opened"
    CLICKED = "clicked"


class Receipt(BaseModel):
    model_config = ConfigDict(frozen=True)

    provider: str  # `ses`, `eum-sms`, `eum-voice`, `social-whatsapp`, `sns-sms`
    channel: Channel
    provider_message_id: str
    status: ReceiptStatus
    addresses: tuple[str, ...] = ()  # the recipients concerned (the bounced ones for a bounce)
    reason: str | None = None  # the provider's code: `Permanent/General`, `TEXT_UNREACHABLE`, ...
    feedback_id: str | None = None  # the provider's id of this report (a complaint's proof)
    at: datetime | None = None  # when the provider says it happened
    # Baton's message id, echoed by the provider (SES tags, End User Messaging context): names
    # the journey send even when the provider's answer to it was lost.
    baton_message_id: str | None = None
    # The journey and step of the send, echoed the same way: the figures count the receipt there.
    journey: str | None = None
    step: str | None = None
    variant: str | None = None  # the run's split variant (or `holdout`), when it has one
    # A message Baton sent on its own (a confirmation email), echoed by its SES tag: the
    # figures count the receipt under its inventory id.
    builtin: BuiltIn | None = None

    @property
    def delivered(self) -> bool:
        return self.status in (ReceiptStatus.DELIVERED, ReceiptStatus.COMPLAINED)

    @property
    def key(self) -> str:
        """The same report delivered twice has the same key (the marker that deduplicates it)."""
        # The addresses are hashed: markers outlive an erasure for a few days (R-GDPR-5).
        recipients = hashlib.sha256(",".join(sorted(self.addresses)).encode()).hexdigest()[:16]
        return "#".join((self.provider, self.provider_message_id, self.status, recipients))

    def without_addresses(self) -> Receipt:
        """What is kept of an early receipt (one that came before its waiter): no personal data."""
        return self.model_copy(update={"addresses": ()})


class ReceiptWaiter(BaseModel):
    """One send of a journey waiting for its receipt (`await_receipt`)."""

    model_config = ConfigDict(frozen=True)

    provider_message_id: str
    contact_id: str
    journey: str
    execution: str  # the execution ARN
    execution_name: str
    step: str
    channel: str
    token: str  # $$.Task.Token: answered once (conditional delete), then gone
    attempts: list[dict[str, JsonValue]] = Field(default_factory=list)  # the step's attempts so far
    started_at: Timestamp
    timeout_at: Timestamp

    def answer(self, receipt: Receipt) -> dict[str, Any]:
        """The step result the resumed execution stores at `$.steps.<step>` (SendTaskSuccess output)."""
        attempts = [dict(attempt) for attempt in self.attempts]
        for attempt in attempts:
            if attempt.get("provider_message_id") == self.provider_message_id:
                attempt["receipt"] = str(receipt.status)
                if not receipt.delivered:
                    attempt["outcome"] = "failed"
                    attempt["reason"] = receipt.reason or str(receipt.status)
        return {
            "outcome": "sent",
            "channel": self.channel,
            "delivered": receipt.delivered,
            "provider_message_id": self.provider_message_id,
            "attempts": attempts,
        }
