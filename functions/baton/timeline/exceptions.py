"""Errors of the timeline package."""

from __future__ import annotations


class TimelineError(Exception):
    """Base of every timeline error."""


class InvalidCursor(TimelineError):
    """A pagination cursor that was not made by `page` for this contact (the API answers 422)."""
