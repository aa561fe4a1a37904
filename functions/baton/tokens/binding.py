"""Which address a link went to, as a keyed hash: a preference page may grant only for the
address its link reached, so whoever holds a text sent to a shared or recycled number cannot
subscribe the contact's email (R-GDPR-1, R-MBX-5).

The hash is the suppression hash's HMAC over the normalised address, under its own key (see
`baton.secrets.link_address_key`), cut to 128 bits: a link stays short and opaque, and its
hash matches no suppression entry.
"""

from __future__ import annotations

import hmac

from baton.consent.vocabulary import Channel
from baton.suppression.exceptions import InvalidSuppressionAddress
from baton.suppression.hashing import address_hash
from baton.tokens.claims import TokenClaims

BINDING_HEX_LENGTH = 32
# A message to one of these reached a person at that address; a webhook's goes to the company.
BINDABLE = frozenset({Channel.EMAIL, Channel.SMS, Channel.VOICE, Channel.WHATSAPP})


def address_binding(key: bytes, channel: Channel, address: str | None) -> str | None:
    """The binding of (channel, address), None for an address that binds nothing."""
    if channel not in BINDABLE or not address:
        return None
    try:
        return address_hash(key, channel, address)[:BINDING_HEX_LENGTH]
    except InvalidSuppressionAddress:
        return None


def reached(claims: TokenClaims, key: bytes, channel: Channel, address: str | None) -> bool:
    """Whether the link was sent to `address` on `channel` (the contact's address now)."""
    if claims.address is None or claims.channel != channel:
        return False
    expected = address_binding(key, channel, address)
    return expected is not None and hmac.compare_digest(expected, claims.address)
