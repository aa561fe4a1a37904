"""Tokens made by hand, as older versions of Baton signed them (links still in people's mail)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json


def signed_by_hand(body: dict[str, object], key: bytes) -> str:
    """`body` signed the way every token version signs: HMAC-SHA256 over the prefix and claims."""
    payload = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode()
    mac = hmac.new(key, b"baton.token.v1." + payload.encode(), hashlib.sha256).digest()
    return f"{payload}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
