"""Sign and verify link tokens: `<claims>.<signature>`, both base64url without padding.

The claims are compact JSON of ids and nonces only (no address, phone or name: see
`claims`), readable by whoever holds the link but not changeable: the signature is
HMAC-SHA256 over a versioned prefix and the encoded claims.
Verification checks shape, then signature (constant time), then scope, then expiry; claims
are only parsed once the signature is good.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import Any

from baton.consent.vocabulary import Channel
from baton.tokens.claims import Scope, TokenClaims
from baton.tokens.exceptions import BadSignature, ExpiredToken, MalformedToken, WrongScope

VERSION = 2
# Version 1 claims also carried the address and topics; still read (those fields ignored) so
# unsubscribe links already sent keep working for their whole lifetime (R-CANSPAM-1, R-CASL-3).
_READABLE_VERSIONS = frozenset({1, VERSION})
MAX_TOKEN_LENGTH = 2048  # longer input is refused before any work is done
MIN_KEY_BYTES = 32
# Domain separation: a MAC made for anything else with the same key never verifies here.
_SIGNING_PREFIX = b"baton.token.v1."
_B64URL = re.compile(r"[A-Za-z0-9_-]+")


def sign(claims: TokenClaims, key: bytes, now: datetime) -> str:
    """Return a URL-safe token carrying `claims`, issued at `now`."""
    _check_key(key)
    _check_aware(now, "now")
    _check_aware(claims.expires_at, "expires_at")
    if claims.expires_at <= now:
        raise ValueError("expires_at must be after now")
    if not claims.contact_id:
        raise ValueError("contact_id is required")
    body: dict[str, Any] = {
        "v": VERSION,
        "sub": claims.contact_id,
        "scp": str(claims.scope),
        "iat": int(now.timestamp()),
        "exp": int(claims.expires_at.timestamp()),
    }
    if claims.generation is not None:
        body["gen"] = claims.generation
    if claims.channel is not None:
        body["ch"] = str(claims.channel)
    if claims.request is not None:
        body["req"] = claims.request
    if claims.address is not None:
        body["ah"] = claims.address
    payload = _encode(json.dumps(body, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode())
    token = f"{payload}.{_encode(_mac(key, payload))}"
    if len(token) > MAX_TOKEN_LENGTH:
        raise ValueError("claims too large for a token")
    return token


def verify(
    token: str,
    scope: Scope | Collection[Scope],
    key: bytes | Sequence[bytes],
    now: datetime,
) -> TokenClaims:
    """Return the claims of a genuine, in-scope, unexpired token, or raise a `TokenError`.

    `key` may be several keys (current first, then previous ones) so links survive a rotation.
    """
    keys = [key] if isinstance(key, bytes) else list(key)
    if not keys:
        raise ValueError("at least one key is required")
    for each in keys:
        _check_key(each)
    _check_aware(now, "now")
    scopes = {scope} if isinstance(scope, Scope) else set(scope)

    payload, signature = _split(token)
    if not any(hmac.compare_digest(_mac(each, payload), signature) for each in keys):
        raise BadSignature("signature does not match")
    claims = _parse(_decode(payload))
    if claims.scope not in scopes:
        raise WrongScope(f"token scope is {claims.scope}")
    if now >= claims.expires_at:
        raise ExpiredToken("token has expired")
    return claims


def _mac(key: bytes, payload: str) -> bytes:
    return hmac.new(key, _SIGNING_PREFIX + payload.encode("ascii"), hashlib.sha256).digest()


def _split(token: str) -> tuple[str, bytes]:
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        raise MalformedToken("not a token")
    parts = token.split(".")
    if len(parts) != 2 or not all(_B64URL.fullmatch(part) for part in parts):
        raise MalformedToken("not a token")
    return parts[0], _decode(parts[1])


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise MalformedToken("bad encoding") from exc
    # Only the canonical encoding is accepted: otherwise the unused low bits of the last
    # character could be flipped and an altered token would still verify.
    if _encode(raw) != text:
        raise MalformedToken("non-canonical encoding")
    return raw


def _parse(raw: bytes) -> TokenClaims:
    try:
        body = json.loads(raw)
        if not isinstance(body, dict) or body.get("v") not in _READABLE_VERSIONS:
            raise MalformedToken("unknown token version")
        contact_id = body["sub"]
        if not isinstance(contact_id, str) or not contact_id:
            raise MalformedToken("bad contact id")
        channel = body.get("ch")
        return TokenClaims(
            contact_id=contact_id,
            scope=Scope(body["scp"]),
            expires_at=_from_epoch(body["exp"]),
            generation=_optional_text(body, "gen"),
            channel=Channel(channel) if channel is not None else None,
            request=_optional_text(body, "req"),
            # Version 1's "adr" was the address itself: never taken for a binding.
            address=_optional_text(body, "ah") if body["v"] == VERSION else None,
            issued_at=_from_epoch(body["iat"]),
        )
    except (KeyError, TypeError, ValueError) as exc:  # JSONDecodeError and enum errors are ValueErrors
        raise MalformedToken("unreadable claims") from exc


def _optional_text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and (not isinstance(value, str) or not value):
        raise MalformedToken(f"bad {name}")
    return value


def _from_epoch(value: object) -> datetime:
    if not isinstance(value, int) or isinstance(value, bool):
        raise MalformedToken("bad timestamp")
    return datetime.fromtimestamp(value, tz=UTC)


def _check_key(key: bytes) -> None:
    if not isinstance(key, bytes) or len(key) < MIN_KEY_BYTES:
        raise ValueError(f"signing key must be at least {MIN_KEY_BYTES} bytes")


def _check_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware")
