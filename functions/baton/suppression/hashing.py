"""The one way an address becomes a suppression key: HMAC-SHA256 over the normalised address.

The salt is a secret that is never rotated (settings: BATON_SUPPRESSION_SALT_SECRET_ARN), so
a hash made before an erasure still matches the same address years later.
"""

from __future__ import annotations

import hashlib
import hmac

from baton.consent.vocabulary import Channel
from baton.contacts.exceptions import InvalidContactField
from baton.contacts.normalize import normalize_address
from baton.suppression.exceptions import InvalidSuppressionAddress


def address_hash(salt: bytes, channel: Channel, address: str) -> str:
    """Hex HMAC-SHA256(salt, "<channel>:<normalised address>"): `Ana@X.com` and `ana@x.com`,
    `+1 (201) 555-0123` and `+12015550123`, hash the same. Phone numbers need their +CC.

    Lenient normalisation (`strict=False`): an address stored years ago still hashes even if
    today's metadata would refuse it, so an erasure or a send check never fails on it.
    """
    try:
        normalized = normalize_address(channel, address, strict=False)
    except InvalidContactField as exc:
        raise InvalidSuppressionAddress(exc.message) from exc
    return hmac.new(salt, f"{channel.value}:{normalized}".encode(), hashlib.sha256).hexdigest()
