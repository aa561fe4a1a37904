"""How fast a provider may be handed messages, as data: End User Messaging's message parts per
second by origination identity type (R-EUM-1), WhatsApp's messages per second, and the `Rate`
the pacer counts in.

| identity type   | parts per second | how Baton knows the type                               |
|-----------------|------------------|--------------------------------------------------------|
| `us_short_code` | 100              | configured only                                        |
| `us_toll_free`  | 3                | configured, or a +1 number with a toll-free area code  |
| `us_10dlc`      | 1 per number     | configured, or any other US +1 number                  |
| `ca_long_code`  | 1                | configured, or a Canadian +1 number                    |
| `long_code`     | 10               | configured, or a number of any other country           |

A pool, a sender id, a phone-number id or an ARN names no number to read a type from: without
configuration it gets the slowest rate, 1 part per second, so a missing entry only slows. A pool
is paced as one identity at its configured type, not as the sum of its numbers: R-EUM-1 forbids
spreading traffic across numbers to beat a limit. Configuration (`delivery.originationIdentities`
in cdk.json) names the type and may lower the rate (`partsPerSecond`), never raise it: a type
faster than the one the number itself shows, or a rate above the type's, is refused by
`baton.floors`.

WhatsApp (End User Messaging Social) counts messages, not parts, per business phone number
(its phone number id): Meta's Cloud API takes 80 a second from a number by default and up to
1,000 once Meta has upgraded it, its highest tier. `whatsappMessagesPerSecond` in cdk.json sets
the rate of the deployment's number within that ceiling; a rate above what Meta gives the number
only makes Meta throttle, and a throttled send is retried.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from baton.delivery.zones import number_country

RULE = "R-EUM-1"


class IdentityType(StrEnum):
    US_SHORT_CODE = "us_short_code"
    US_TOLL_FREE = "us_toll_free"
    US_10DLC = "us_10dlc"
    CA_LONG_CODE = "ca_long_code"
    LONG_CODE = "long_code"


# R-EUM-1: message parts per second per origination identity.
PARTS_PER_SECOND: Mapping[IdentityType, int] = MappingProxyType(
    {
        IdentityType.US_SHORT_CODE: 100,
        IdentityType.US_TOLL_FREE: 3,
        IdentityType.US_10DLC: 1,
        IdentityType.CA_LONG_CODE: 1,
        IdentityType.LONG_CODE: 10,
    }
)
# An identity whose type is neither configured nor readable from it: the slowest of them.
UNKNOWN_TYPE_PARTS_PER_SECOND = min(PARTS_PER_SECOND.values())

# Meta's Cloud API throughput per WhatsApp business phone number: its default, and its highest tier.
WHATSAPP_MESSAGES_PER_SECOND = 80
WHATSAPP_MAX_MESSAGES_PER_SECOND = 1_000

# North American toll-free area codes (NANP): 8XX with a repeated digit, 800 to 888.
_TOLL_FREE_AREA_CODES = frozenset({"800", "833", "844", "855", "866", "877", "888"})
_NANP_NUMBER = re.compile(r"^\+1(\d{3})\d{7}$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


@dataclass(frozen=True, slots=True)
class Rate:
    """At most `capacity` units (message parts, emails) in each window of `window_seconds`.

    A rate of at least one per second counts whole units per second (rounded down: never
    faster); a slower one counts one unit per window of as many seconds as it takes."""

    capacity: int
    window_seconds: int = 1

    @classmethod
    def per_second(cls, value: float) -> Rate:
        if not value > 0:
            raise ValueError(f"a rate must be above 0 per second, not {value}")
        if value >= 1:
            return cls(capacity=math.floor(value))
        return cls(capacity=1, window_seconds=math.ceil(1 / value))

    def share(self, fraction: float) -> Rate:
        """The same windows holding `fraction` of the units (at least one): what a sender that
        must leave the rest free may fill them to."""
        if fraction >= 1:
            return self
        return Rate(capacity=max(1, math.floor(self.capacity * fraction)), window_seconds=self.window_seconds)

    @property
    def per_second_value(self) -> float:
        return self.capacity / self.window_seconds


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)


class OriginationIdentity(_Model):
    """One `delivery.originationIdentities` entry: `{"type": "us_10dlc", "partsPerSecond": 0.5}`."""

    type: IdentityType
    parts_per_second: Annotated[float, Field(gt=0)] | None = None  # slower than the type's only


def parse_identity(entry: Mapping[str, Any]) -> OriginationIdentity:
    """One configured entry; ValueError naming the key (`type: Input should be ...`)."""
    try:
        return OriginationIdentity.model_validate(entry)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(to_camel(str(part)) for part in error["loc"]) or "entry"
        raise ValueError(f"{where}: {error['msg']}") from None


def parse_identities(raw: Mapping[str, Mapping[str, Any]]) -> dict[str, OriginationIdentity]:
    """The configured identities; ValueError naming the identity and the key for a bad entry."""
    parsed: dict[str, OriginationIdentity] = {}
    for identity, entry in raw.items():
        try:
            parsed[identity] = parse_identity(entry)
        except ValueError as exc:
            raise ValueError(f"{identity}.{exc}") from None
    return parsed


def derived_type(identity: str) -> IdentityType | None:
    """The type an E.164 number shows by itself; None for anything that is not a number."""
    if not _E164.match(identity):
        return None
    nanp = _NANP_NUMBER.match(identity)
    if nanp and nanp.group(1) in _TOLL_FREE_AREA_CODES:
        return IdentityType.US_TOLL_FREE
    country = number_country(identity)
    if country == "US":
        return IdentityType.US_10DLC
    if country == "CA":
        return IdentityType.CA_LONG_CODE
    return IdentityType.LONG_CODE if country is not None else None


def identity_rate(identity: str, configured: Mapping[str, OriginationIdentity]) -> Rate:
    """The parts per second Baton hands `identity`: the configured entry's (its type's rate, or
    the lower `partsPerSecond`), else the type read from the number, else the slowest."""
    entry = configured.get(identity)
    if entry is not None:
        limit = float(PARTS_PER_SECOND[entry.type])
        # Never above the type's rate, whatever the floors let through.
        return Rate.per_second(min(limit, entry.parts_per_second or limit))
    kind = derived_type(identity)
    return Rate.per_second(PARTS_PER_SECOND[kind] if kind is not None else UNKNOWN_TYPE_PARTS_PER_SECOND)


def faster_than_the_rulebook(identity: str, entry: OriginationIdentity) -> str | None:
    """Why `entry` would let `identity` go faster than R-EUM-1 allows, or None."""
    shown = derived_type(identity)
    if shown is not None and PARTS_PER_SECOND[entry.type] > PARTS_PER_SECOND[shown]:
        return (
            f"{identity} is a {shown} number ({PARTS_PER_SECOND[shown]} parts/s); as {entry.type} it"
            f" would get {PARTS_PER_SECOND[entry.type]}"
        )
    limit = PARTS_PER_SECOND[entry.type]
    if entry.parts_per_second is not None and entry.parts_per_second > limit:
        return f"{entry.parts_per_second:g} parts/s is faster than {limit} for a {entry.type} identity"
    return None
