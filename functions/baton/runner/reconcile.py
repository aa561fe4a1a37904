"""Settles a journey send from the provider's own event: the event echoes Baton's message id
(SES message tags, End User Messaging `Context`), which names the send's ledger entry.

A send recorded `unknown` (its answer was lost), or whose invocation died before recording it,
gets `message.sent` on the timeline when the provider says it has the message: the timeline
then holds every message that went out, and nothing was sent twice to find out.

A send of an execution whose subject is gone (its contact was erased, R-GDPR-5) is forgotten
instead: its ledger entry, the last place that still names the contact, is deleted, and nothing
is written about them, even when a new contact has the same id since. A campaign batch's send has
no execution of its own, so no subject: its ledger entry names the contact's generation, and the
send is about an erased contact when no contact has that id and generation any more.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from datetime import datetime

from aws_lambda_powertools import Logger

from baton.contacts.exceptions import ContactNotFound
from baton.runner.models import Attempt, dump
from baton.runner.once import ACCEPTED, SENT, SendLedger
from baton.runner.ports import GenerationReader, SubjectReader, Timeline
from baton.timeline.exceptions import EventExists
from baton.timeline.models import TimelineKind

logger = Logger(child=True)

MESSAGE_SENT = TimelineKind.MESSAGE_SENT.value
# Labels of the ledger entry copied to `message.sent` (no personal data is kept there).
_LABELS = (
    "journey",
    "step",
    "execution",
    "pass",
    "channel",
    "purpose",
    "topic",
    "template",
    "variant",
    "content",
)


class ProviderEcho:
    """`FeedbackService`'s settler: the ledger and the timeline it records on."""

    def __init__(
        self, ledger: SendLedger, timeline: Timeline, subjects: SubjectReader, contacts: GenerationReader
    ) -> None:
        self._ledger = ledger
        self._timeline = timeline
        self._subjects = subjects
        self._contacts = contacts

    def settle(
        self, baton_message_id: str, provider: str, provider_message_id: str, at: datetime | None
    ) -> bool:
        """Record the send as sent if it is not yet; False when there was nothing to settle."""
        journal = self._ledger.find(baton_message_id)
        if journal is None:
            return False
        if not self._still_about(journal.data):
            journal.forget()
            logger.info("Provider event about an erased contact's send", extra={"provider": provider})
            return False
        if journal.state == SENT:
            return False
        stamp = journal.settle(ACCEPTED, provider=provider, provider_message_id=provider_message_id)
        data = journal.data
        detail = {key: data[key] for key in _LABELS if key in data} | {"message_id": baton_message_id}
        detail.update(
            {"provider": provider, "provider_message_id": provider_message_id, "settled_by": "provider_event"}
        )
        with suppress(EventExists):  # recorded by an earlier delivery of this event
            self._timeline.record(
                str(data["contact_id"]), MESSAGE_SENT, detail, at=stamp.at, event_id=stamp.event_id
            )
        channel = str(data.get("channel") or "")
        journal.finish(
            dump(Attempt(channel=channel, outcome="sent", provider_message_id=provider_message_id))
        )
        logger.info("Send settled from the provider's event", extra={"provider": provider})
        return True

    def erased(self, baton_message_id: str) -> bool:
        """Whether the message was a journey send to a contact erased since (its entry forgotten,
        or its execution's subject gone): the event is then about nobody Baton knows."""
        journal = self._ledger.find(baton_message_id)
        return journal is None or not self._still_about(journal.data)

    def _still_about(self, data: Mapping[str, object]) -> bool:
        """The execution that made the send still has its subject, the same contact: erasure
        deletes the subject, and a contact made later with the same id is in new executions."""
        execution = str(data.get("execution") or "")
        subject = self._subjects.get(execution.rsplit(":", 1)[-1]) if execution else None
        if subject is not None:
            return subject.contact_id == data.get("contact_id")
        if "generation" not in data:
            return False  # an execution's send whose subject is gone: erased
        # A campaign batch's send (no execution, no subject): the contact with that id is still
        # the one it was for while its generation is the one the send recorded.
        try:
            return (self._contacts.generation(str(data["contact_id"])) or "") == data["generation"]
        except ContactNotFound:
            return False
