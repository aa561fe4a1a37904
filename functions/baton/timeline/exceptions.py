"""Errors of the timeline package."""

from __future__ import annotations


class TimelineError(Exception):
    """Base of every timeline error."""


class EventExists(TimelineError):
    """An event with the same (contact, time, event id) is stored already: recording an outcome
    again under its fixed stamp finds it instead of adding a second one."""


class InvalidCursor(TimelineError):
    """A pagination cursor that was not made by `page` for this contact (the API answers 422)."""
