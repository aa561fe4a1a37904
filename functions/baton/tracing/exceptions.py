"""Errors of the tracing package."""

from __future__ import annotations


class TracingError(Exception):
    """Base of every tracing error."""


class MessageNotFound(TracingError):
    """No sent message has this id, Baton's or the provider's (the API answers 404)."""

    def __init__(self, message_id: str) -> None:
        super().__init__(f"No message {message_id!r} was sent (or its contact was erased).")
        self.message_id = message_id
