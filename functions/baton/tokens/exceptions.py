"""Why a token was refused. The API answers every one of them with the same 403."""

from __future__ import annotations


class TokenError(Exception):
    """A token that must not be honoured; the subclass says why (for logs and tests only)."""


class MalformedToken(TokenError):
    """Not a token at all: wrong shape, bad encoding, too long, unreadable claims."""


class BadSignature(TokenError):
    """Well-formed, but not signed with any of our keys: forged or altered."""


class WrongScope(TokenError):
    """Genuine, but made for another action (a confirm link used on the preference page)."""


class ExpiredToken(TokenError):
    """Genuine and in scope, but past its expiry."""
