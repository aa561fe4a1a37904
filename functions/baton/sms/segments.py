"""Count the parts an SMS will be billed as (R-SMS-1): GSM-7 or UCS-2, single or concatenated.

GSM-7 (3GPP TS 23.038 basic table plus its extension table, whose characters take two
septets): 160 septets in one part, 153 per part when split. Anything else makes the whole
message UCS-2: 70 UTF-16 code units in one part, 67 per part when split. A part never
splits an extension character's escape pair or a UTF-16 surrogate pair.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Encoding(StrEnum):
    GSM7 = "GSM-7"
    UCS2 = "UCS-2"


# 3GPP TS 23.038, 6.2.1 default alphabet (0x1B is the escape to the extension table, not a character).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# 6.2.1.1 extension table: each costs the escape septet plus its own.
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

SINGLE_PART = {Encoding.GSM7: 160, Encoding.UCS2: 70}
PER_PART = {Encoding.GSM7: 153, Encoding.UCS2: 67}


@dataclass(frozen=True, slots=True)
class SegmentCount:
    encoding: Encoding
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    parts: int  # 0 for an empty text


def encoding_of(text: str) -> Encoding:
    gsm = GSM7_BASIC | GSM7_EXTENSION
    return Encoding.GSM7 if all(ch in gsm for ch in text) else Encoding.UCS2


def non_gsm_characters(text: str) -> list[str]:
    """The characters that force UCS-2, in order of appearance (for template lint messages)."""
    gsm = GSM7_BASIC | GSM7_EXTENSION
    return list(dict.fromkeys(ch for ch in text if ch not in gsm))


def count_segments(text: str) -> SegmentCount:
    encoding = encoding_of(text)
    costs = [_cost(ch, encoding) for ch in text]
    units = sum(costs)
    if units == 0:
        return SegmentCount(encoding, 0, 0)
    if units <= SINGLE_PART[encoding]:
        return SegmentCount(encoding, units, 1)
    # Fill parts greedily; a character that does not fit whole starts the next part.
    room, parts, used = PER_PART[encoding], 1, 0
    for cost in costs:
        if used + cost > room:
            parts, used = parts + 1, 0
        used += cost
    return SegmentCount(encoding, units, parts)


def _cost(ch: str, encoding: Encoding) -> int:
    if encoding is Encoding.GSM7:
        return 2 if ch in GSM7_EXTENSION else 1
    return 2 if ord(ch) > 0xFFFF else 1  # astral characters (most emoji) are surrogate pairs
