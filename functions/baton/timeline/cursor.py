"""Opaque pagination cursors: base64url (unpadded) JSON of DynamoDB's LastEvaluatedKey.

Opaque to callers, not secret: it holds the contact id and the position in its timeline.
A cursor is checked on the way back in: right shape, and the same contact as the request.
"""

from __future__ import annotations

import base64
import binascii
import json

from baton.timeline.exceptions import InvalidCursor

_MAX_CURSOR_CHARS = 1024
_KEYS = frozenset({"contact_id", "sk"})


def encode_cursor(key: dict[str, str]) -> str:
    """The cursor for a position: `{"contact_id": ..., "sk": ...}` -> url-safe text."""
    raw = json.dumps(key, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str, contact_id: str) -> dict[str, str]:
    """The position a cursor names; raises `InvalidCursor` unless it is one of ours for this contact."""
    if not cursor or len(cursor) > _MAX_CURSOR_CHARS:
        raise InvalidCursor("The cursor is empty or too long.")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise InvalidCursor("The cursor is not one this API returned.") from exc
    if (
        not isinstance(key, dict)
        or set(key) != _KEYS
        or not all(isinstance(value, str) and value for value in key.values())
    ):
        raise InvalidCursor("The cursor is not one this API returned.")
    if key["contact_id"] != contact_id:
        raise InvalidCursor("The cursor belongs to another contact.")
    return {"contact_id": key["contact_id"], "sk": key["sk"]}
