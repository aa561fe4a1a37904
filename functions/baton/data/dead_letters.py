"""Removing a person's messages from a dead-letter queue (R-GDPR-5).

AWS writes a failed delivery's whole body into Baton's dead-letter queues and keeps it 14 days:
an inbound text with its sender's number, an SES bounce with its addresses, a caller's event.
Erasure reads such a queue through and deletes the messages about the person; every other
message is made visible again at once, so the queue's alarm and its redrive see it unchanged.

A dead-letter queue is alarmed at one message (R-REL-5), so it is small: at most
`MAX_MESSAGES_READ` messages are read per queue. A queue holding more is not read in full, and
the answer says so (`DeadLettersUnread`), as it does when the queue cannot be read at all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

from botocore.exceptions import BotoCoreError, ClientError

from baton import aws

MAX_MESSAGES_READ: Final = 200  # per queue and erasure: 20 receives of 10
_BATCH: Final = 10  # SQS's largest receive, delete and visibility batch
# Long enough to read the queue through before any received message shows again; the kept ones
# are made visible at once when the read ends.
_HIDDEN_SECONDS: Final = 60
# Long polling asks every SQS server: a short poll of a small queue may well answer with nothing.
WAIT_SECONDS = 1


class DeadLettersUnread(Exception):
    """A dead-letter queue could not be read through: what it holds may still name the person.
    `removed`: the messages about them deleted before it stopped."""

    def __init__(self, reason: str, removed: int) -> None:
        super().__init__(reason)
        self.removed = removed


class SqsDeadLetters:
    """One dead-letter queue, by URL."""

    def __init__(self, queue_url: str, client: Any = None) -> None:
        self._url = queue_url
        # Any: the dev dependencies carry no SQS stubs.
        self._client: Any = client or aws.client("sqs")

    def delete_matching(self, about: Callable[[str], bool]) -> int:
        """Delete every message whose body `about` says is about the person; the others are made
        visible again. Returns how many were deleted. Raises DeadLettersUnread (the messages
        read so far are handled all the same)."""
        deleted = 0
        undeleted = 0
        kept: list[str] = []
        read = 0
        try:
            while True:
                if read >= MAX_MESSAGES_READ:
                    raise DeadLettersUnread(f"more than {MAX_MESSAGES_READ} messages", deleted)
                messages = self._receive()
                if not messages:
                    break
                read += len(messages)
                matching: list[str] = []
                for message in messages:
                    (matching if about(message.get("Body", "")) else kept).append(message["ReceiptHandle"])
                removed = self._delete(matching)
                deleted += removed
                undeleted += len(matching) - removed
        except (ClientError, BotoCoreError) as exc:
            raise DeadLettersUnread(type(exc).__name__, deleted) from exc
        finally:
            self._release(kept)
        if undeleted:
            # Still hidden, they show again when their hiding ends: the answer names the queue.
            raise DeadLettersUnread(f"{undeleted} messages could not be deleted", deleted)
        return deleted

    def _receive(self) -> list[Any]:
        answer = self._client.receive_message(
            QueueUrl=self._url,
            MaxNumberOfMessages=_BATCH,
            VisibilityTimeout=_HIDDEN_SECONDS,
            WaitTimeSeconds=WAIT_SECONDS,
        )
        return list(answer.get("Messages", []))

    def _delete(self, handles: Sequence[str]) -> int:
        """How many of the messages were deleted."""
        removed = 0
        for start in range(0, len(handles), _BATCH):
            batch = handles[start : start + _BATCH]
            answer = self._client.delete_message_batch(
                QueueUrl=self._url,
                Entries=[{"Id": str(i), "ReceiptHandle": handle} for i, handle in enumerate(batch)],
            )
            removed += len(answer.get("Successful", []))
        return removed

    def _release(self, handles: Sequence[str]) -> None:
        """Make the kept messages visible now, not when their hiding ends. Best effort: one that
        stays hidden shows again after `_HIDDEN_SECONDS` all the same."""
        for start in range(0, len(handles), _BATCH):
            batch = handles[start : start + _BATCH]
            try:
                self._client.change_message_visibility_batch(
                    QueueUrl=self._url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": handle, "VisibilityTimeout": 0}
                        for i, handle in enumerate(batch)
                    ],
                )
            except (ClientError, BotoCoreError):
                return
