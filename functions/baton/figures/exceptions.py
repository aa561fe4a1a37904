"""Errors of reading the figures."""

from __future__ import annotations


class FiguresError(Exception):
    """Base of the figures errors."""


class InvalidSpan(FiguresError):
    """A span of days the figures cannot be read over (a 422 naming `from` or `to`)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
