"""What a delivery receipt changes (R-SES-3), and the journeys waiting for receipts.

`handle(receipt)`, once per receipt (a marker in the receipts table; the same receipt twice
changes nothing the second time):
- a hard bounce suppresses each bounced address (`hard_bounce`, R-SES-3);
- a complaint suppresses the address (`complaint`) and revokes the contact's email consents
  (every email topic is marketing) with the complaint as proof (R-SES-3);
- every receipt goes on the contact's timeline as `delivery.event` with the provider message id;
- the journey waiting for this message (`confirm_delivery`) is answered once: the waiter is
  claimed with a conditional delete, then SendTaskSuccess with `{"outcome": "sent", "channel",
  "delivered"}`. A complaint is not an answer (the delivery receipt came before it).
`expect` registers a waiter (the `await_receipt` task); `give_up` is the timeout path.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final, Protocol

from aws_lambda_powertools import Logger

from baton.clock import Clock, to_iso
from baton.consent.models import ConsentProof
from baton.consent.vocabulary import Channel, Source
from baton.contacts.models import Contact
from baton.feedback.models import Receipt, ReceiptStatus, ReceiptWaiter
from baton.feedback.repository import ReceiptRepository
from baton.messages import builtins
from baton.suppression.models import SuppressionReason
from baton.suppression.service import SuppressionService
from baton.timeline.models import TimelineKind
from baton.timeline.service import TimelineService
from baton.waits.tokens import TaskTokens

logger = Logger(child=True)

DELIVERY_EVENT: Final = str(TimelineKind.DELIVERY_EVENT)
DELIVERY_TIMED_OUT: Final = "delivery.timed_out"
SUPPRESSION_SOURCE: Final = {Channel.EMAIL: "ses", Channel.SMS: "sms", Channel.VOICE: "voice"}
# A receipt can come up to 72 hours after the send (End User Messaging); markers outlive that.
MARKER_LIFETIME: Final = timedelta(days=7)
# Receipts that answer no waiter: a complaint (the delivery came before it), an open, a click.
_NOT_FINAL: Final = frozenset({ReceiptStatus.COMPLAINED, ReceiptStatus.OPENED, ReceiptStatus.CLICKED})
WAITER_GRACE: Final = timedelta(days=1)


class ContactFinder(Protocol):
    def find_by_email(self, email: str) -> Contact | None: ...

    def find_by_phone(self, phone: str, country: str | None = None) -> list[Contact]: ...


class ConsentRevoker(Protocol):
    def revoke_all(
        self, contact_id: str, channel: Channel, source: Source, proof: ConsentProof | None = None
    ) -> object: ...


class Settler(Protocol):
    """Settles a journey send named by the Baton message id a provider event echoes
    (`baton.runner.reconcile.ProviderEcho`)."""

    def settle(
        self, baton_message_id: str, provider: str, provider_message_id: str, at: datetime | None
    ) -> bool: ...

    def erased(self, baton_message_id: str) -> bool:
        """Whether the journey send it names was to a contact erased since."""
        ...


class FeedbackService:
    def __init__(
        self,
        repository: ReceiptRepository,
        tokens: TaskTokens,
        *,
        contacts: ContactFinder,
        suppression: SuppressionService,
        consent: ConsentRevoker,
        timeline: TimelineService,
        clock: Clock,
        settler: Settler | None = None,
    ) -> None:
        self._settler = settler
        self._repository = repository
        self._tokens = tokens
        self._contacts = contacts
        self._suppression = suppression
        self._consent = consent
        self._timeline = timeline
        self._clock = clock

    # Receipts ---------------------------------------------------------------------------

    def handle(self, receipt: Receipt) -> bool:
        """Apply the receipt; False when it was handled before (nothing changes)."""
        if self._repository.seen(receipt.key):
            logger.info("Receipt already handled", extra={"provider": receipt.provider})
            return False
        if receipt.baton_message_id and self._settler is not None:
            # Any event about the message (even a bounce) means the provider took it: a send
            # whose answer was lost, or whose recording died with its invocation, is sent.
            self._settler.settle(
                receipt.baton_message_id, receipt.provider, receipt.provider_message_id, receipt.at
            )
        final = receipt.status not in _NOT_FINAL
        if final:
            # Kept before the waiter is read: a waiter registering meanwhile finds it (`expect`).
            self._repository.keep_early(receipt, self._clock.now() + MARKER_LIFETIME)
        waiter = self._repository.get(receipt.provider_message_id)
        # A late receipt for an erased contact's message is about nobody (R-GDPR-5): nothing
        # about them is written, nor put on whoever holds the address now; the address is
        # still suppressed below (by salted hash, which outlives erasure).
        contact_ids = [] if self._about_erased(receipt) else self._contact_ids(receipt, waiter)
        if receipt.status == ReceiptStatus.BOUNCED:
            for address in receipt.addresses:
                self._suppression.add(
                    receipt.channel, address, SuppressionReason.HARD_BOUNCE, _source(receipt)
                )
        if receipt.status == ReceiptStatus.COMPLAINED:
            for address in receipt.addresses:
                self._suppression.add(receipt.channel, address, SuppressionReason.COMPLAINT, _source(receipt))
            proof = ConsentProof(
                message_id=(receipt.feedback_id or receipt.provider_message_id)[:200],
                note=f"Complaint ({receipt.reason}) about message {receipt.provider_message_id}"[:2000],
            )
            for contact_id in contact_ids:
                self._consent.revoke_all(contact_id, receipt.channel, Source.COMPLAINT, proof)
        for contact_id in contact_ids:
            self._timeline.record(contact_id, DELIVERY_EVENT, _detail(receipt, waiter), at=receipt.at)
        if waiter is not None and final:
            self._answer(waiter, receipt)
        # Last, so a failure above is retried in full (each effect is safe to repeat).
        self._repository.mark(receipt.key, self._clock.now() + MARKER_LIFETIME)
        return True

    def _answer(self, waiter: ReceiptWaiter, receipt: Receipt) -> None:
        if not self._repository.claim(waiter):
            return  # another delivery of this receipt, or the timeout path, took it
        try:
            answered = self._tokens.succeed(waiter.token, waiter.answer(receipt))
        except Exception:
            self._repository.put(waiter, waiter.timeout_at + WAITER_GRACE)  # let the retry find it
            raise
        if not answered:
            logger.info("Receipt came after the journey stopped waiting", extra={"journey": waiter.journey})

    def _about_erased(self, receipt: Receipt) -> bool:
        return (
            bool(receipt.baton_message_id)
            and self._settler is not None
            and self._settler.erased(str(receipt.baton_message_id))
        )

    def _contact_ids(self, receipt: Receipt, waiter: ReceiptWaiter | None) -> list[str]:
        if waiter is not None:
            return [waiter.contact_id]
        found: list[str] = []
        for address in receipt.addresses:
            if receipt.channel == Channel.EMAIL:
                contact = self._contacts.find_by_email(address)
                found.extend([contact.contact_id] if contact is not None else [])
            else:
                found.extend(contact.contact_id for contact in self._contacts.find_by_phone(address))
        return list(dict.fromkeys(found))

    # Waiters (the journey side) ----------------------------------------------------------

    def expect(
        self,
        *,
        provider_message_id: str,
        contact_id: str,
        journey: str,
        execution: str,
        execution_name: str,
        step: str,
        channel: str,
        token: str,
        attempts: list[dict[str, object]],
        timeout: timedelta,
    ) -> ReceiptWaiter:
        now = self._clock.now()
        waiter = ReceiptWaiter.model_validate(
            {
                "provider_message_id": provider_message_id,
                "contact_id": contact_id,
                "journey": journey,
                "execution": execution,
                "execution_name": execution_name,
                "step": step,
                "channel": channel,
                "token": token,
                "attempts": attempts,
                "started_at": now,
                "timeout_at": now + timeout,
            }
        )
        self._repository.put(waiter, waiter.timeout_at + WAITER_GRACE)
        # A fast receipt may have come before this waiter: answer with it now (once, by claim).
        early = self._repository.early(provider_message_id)
        if early is not None:
            self._answer(waiter, early)
        return waiter

    def give_up(
        self,
        *,
        provider_message_id: str,
        contact_id: str,
        journey: str,
        step: str,
        channel: str,
        variant: str | None = None,
    ) -> None:
        """No receipt in time (the state machine's timeout path): forget the waiter, say so once
        (with the run's variant, when it has one: the figures count the missing receipt by it)."""
        if self._repository.remove(provider_message_id):
            detail: dict[str, object] = {
                "journey": journey,
                "step": step,
                "channel": channel,
                "provider_message_id": provider_message_id,
                "status": "failed",
                "reason": "no_receipt",
                "at": to_iso(self._clock.now()),
            }
            if variant is not None:
                detail["variant"] = variant
            self._timeline.record(contact_id, DELIVERY_TIMED_OUT, detail)


def _source(receipt: Receipt) -> str:
    return SUPPRESSION_SOURCE.get(receipt.channel, receipt.channel.value)


def _detail(receipt: Receipt, waiter: ReceiptWaiter | None) -> dict[str, object]:
    detail: dict[str, object] = {
        "provider": receipt.provider,
        "channel": receipt.channel.value,
        "provider_message_id": receipt.provider_message_id,
        "status": receipt.status.value,
        "reason": receipt.reason,
    }
    if waiter is not None:
        detail |= {"journey": waiter.journey, "step": waiter.step, "execution": waiter.execution_name}
    elif receipt.journey is not None:
        # A send nobody waits for: its journey and step as the provider echoed them.
        detail |= {"journey": receipt.journey, **({"step": receipt.step} if receipt.step else {})}
    elif receipt.builtin is not None:
        detail |= builtins.labels(receipt.builtin)
    if receipt.variant is not None and "journey" in detail:
        # The run's variant as the provider echoed it: the figures count the receipt by it.
        detail["variant"] = receipt.variant
    return detail
