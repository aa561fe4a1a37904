"""Settles a journey send from the provider's own event: the event echoes Baton's message id
(SES message tags, End User Messaging `Context`), which names the send's ledger entry.

A send recorded `unknown` (its answer was lost), or whose invocation died before recording it,
gets `message.sent` on the timeline when the provider says it has the message: the timeline
then holds every message that went out, and nothing was sent twice to find out.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime

from aws_lambda_powertools import Logger

from baton.runner.models import Attempt, dump
from baton.runner.once import ACCEPTED, SENT, SendLedger
from baton.runner.ports import Timeline
from baton.timeline.exceptions import EventExists
from baton.timeline.models import TimelineKind

logger = Logger(child=True)

MESSAGE_SENT = TimelineKind.MESSAGE_SENT.value
# Labels of the ledger entry copied to `message.sent` (no personal data is kept there).
_LABELS = ("journey", "step", "execution", "pass", "channel")


class ProviderEcho:
    """`FeedbackService`'s settler: the ledger and the timeline it records on."""

    def __init__(self, ledger: SendLedger, timeline: Timeline) -> None:
        self._ledger = ledger
        self._timeline = timeline

    def settle(
        self, baton_message_id: str, provider: str, provider_message_id: str, at: datetime | None
    ) -> bool:
        """Record the send as sent if it is not yet; False when there was nothing to settle."""
        journal = self._ledger.find(baton_message_id)
        if journal is None or journal.state == SENT:
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
