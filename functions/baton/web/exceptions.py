"""Errors of the web pages and forms."""

from __future__ import annotations


class InvalidForm(ValueError):
    """A submitted form Baton did not render: unknown channel, bad topic, unknown action, too many fields."""
