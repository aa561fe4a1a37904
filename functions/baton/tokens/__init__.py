"""Signed links: HMAC-SHA256 tokens that name a contact and what the link may do."""

from baton.tokens.claims import Scope, TokenClaims
from baton.tokens.exceptions import BadSignature, ExpiredToken, MalformedToken, TokenError, WrongScope
from baton.tokens.signer import sign, verify

__all__ = [
    "BadSignature",
    "ExpiredToken",
    "MalformedToken",
    "Scope",
    "TokenClaims",
    "TokenError",
    "WrongScope",
    "sign",
    "verify",
]
