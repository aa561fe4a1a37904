"""Which variant of a split, and whether the holdout, a contact gets: a pure function of the
journey and the contact, so the same contact in the same journey is assigned the same way on
every entry, every retry and every redrive, with nothing stored to decide it.

Both hash `["<domain>", journey id, contact id]` with SHA-256 and read the first 64 bits as a
number in [0, 1): the split maps it onto the variants' cumulative weights, the holdout compares
it with its share. The domains differ (`split`, `holdout`), so being held out says nothing about
which variant a contact would have had: the holdout and each variant are independent samples.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Final

from baton.journeys.models import Variant, holdout_tenths

SPLIT_DOMAIN: Final = "split"
HOLDOUT_DOMAIN: Final = "holdout"
_BITS: Final = 64
_TENTHS_OF_PERCENT: Final = 1000


def _point(domain: str, journey_id: str, contact_id: str, scale: int) -> int:
    """`[0, scale)`, uniform over contacts: the hash's first 64 bits times `scale`, over 2**64."""
    material = json.dumps([domain, journey_id, contact_id], ensure_ascii=False).encode()
    value = int.from_bytes(hashlib.sha256(material).digest()[: _BITS // 8], "big")
    return (value * scale) >> _BITS


def variant_of(journey_id: str, contact_id: str, variants: Sequence[Variant]) -> Variant:
    """The contact's variant: each gets `weight / sum of weights` of the contacts."""
    point = _point(SPLIT_DOMAIN, journey_id, contact_id, sum(variant.weight for variant in variants))
    for variant in variants:
        if point < variant.weight:
            return variant
        point -= variant.weight
    raise AssertionError("the point lies below the sum of the weights")


def held_out(journey_id: str, contact_id: str, holdout: str | None) -> bool:
    """Whether the contact is in the journey's holdout (`10%`: one contact in ten)."""
    if holdout is None:
        return False
    return _point(HOLDOUT_DOMAIN, journey_id, contact_id, _TENTHS_OF_PERCENT) < holdout_tenths(holdout)
