"""Errors of the suppression package."""

from __future__ import annotations


class SuppressionError(Exception):
    """Base of every suppression error."""


class InvalidSuppressionAddress(SuppressionError, ValueError):
    """The address cannot be normalised for its channel, so it cannot be hashed reliably."""
