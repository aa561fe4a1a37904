"""Time-ordered identifiers (ULID layout): 48-bit milliseconds then 80 random bits, Crockford base32.

Ids made later sort later, and ids made in the same millisecond by one process sort in the
order they were made (the random part is incremented), so items keyed `<ts>#<id>` have a
deterministic order even when their timestamps are equal.
"""

from __future__ import annotations

import secrets
import threading
from datetime import datetime

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RANDOM_BITS = 80
_lock = threading.Lock()
_last: tuple[int, int] = (-1, 0)


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, digit = divmod(value, 32)
        chars.append(_ALPHABET[digit])
    return "".join(reversed(chars))


def new_id(at: datetime) -> str:
    """A 26-character id ordered by `at` (an aware datetime), then by creation within this process."""
    global _last
    millis = int(at.timestamp() * 1000)
    with _lock:
        last_millis, last_random = _last
        if millis == last_millis and last_random + 1 < (1 << _RANDOM_BITS):
            random_part = last_random + 1
        else:
            random_part = secrets.randbits(_RANDOM_BITS)
            # Leave room to increment within the same millisecond.
            random_part >>= 1
        _last = (millis, random_part)
    return _encode(millis, 10) + _encode(random_part, 16)
