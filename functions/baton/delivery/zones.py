"""Where a recipient is in time: the zones to read quiet hours and windows in (R-TCPA-2).

The contact's own `timezone` wins. Without one, the zones of the phone number (phonenumbers'
per-prefix data: one zone for a single-zone country or a US area code, several otherwise),
else the zones of the contact's country (tzdata's zone1970.tab). Several candidates are kept,
not guessed between: the gate then allows a send only when every candidate zone is inside the
window (R-TCPA-2 "otherwise hold"). No candidate at all means the zone is unknown.

For the legal time rules the stored zone does not outrank the number: both must be inside
the quiet hours (`legal_zones`); a step's own window reads the most specific zone only.
"""

from __future__ import annotations

from functools import cache, lru_cache
from importlib import resources
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as phone_timezones

from baton.delivery.us_area_codes import AREA_CODE_STATES

_UNKNOWN_ZONE = "Etc/Unknown"  # what phonenumbers answers for a number it cannot place


def recipient_zones(timezone: str | None, phone: str | None, country: str | None) -> tuple[str, ...]:
    """The candidate IANA zones of a recipient, most specific source first; () when unknown."""
    if timezone and _known(timezone):
        return (timezone,)
    if phone:
        zones = _number_zones(phone)
        if zones:
            return zones
    if country:
        return _country_zones().get(country.upper(), ())
    return ()


def legal_zones(timezone: str | None, phone: str | None, country: str | None) -> tuple[str, ...]:
    """The zones a legal time rule (quiet hours, a calling window) must hold in: the contact's
    stored zone and the number's zones together, since either may be where the person is now
    (a stored `UTC` on a New York number must not let a text out at 06:30 in New York);
    without either, the country's zones; () when unknown."""
    zones = set(_number_zones(phone)) if phone else set()
    if timezone and _known(timezone):
        zones.add(timezone)
    if zones:
        return tuple(sorted(zones))
    return _country_zones().get(country.upper(), ()) if country else ()


def number_country(phone: str) -> str | None:
    """The ISO 3166 alpha-2 region of an E.164 number (`+5511...` -> `BR`), or None."""
    number = _parse(phone)
    if number is None:
        return None
    region = phonenumbers.region_code_for_number(number)
    return str(region) if region and region != "ZZ" else None


def number_region(phone: str) -> str | None:
    """A US number's state as `US-FL`, read from its area code (R-TCPA-2's stricter states);
    None for other countries and for an area code no state is known for (toll-free, new)."""
    if number_country(phone) != "US":
        return None
    number = _parse(phone)
    state = AREA_CODE_STATES.get(str(number.national_number)[:3]) if number is not None else None
    return f"US-{state}" if state else None


# The gate places one number several times per decision (its zones for quiet hours and for a
# step's window, its country, its state): parse and look it up once per number.
@lru_cache(maxsize=4096)
def _number_zones(phone: str) -> tuple[str, ...]:
    number = _parse(phone)
    if number is None:
        return ()
    names = phone_timezones.time_zones_for_number(number)
    return tuple(sorted(name for name in names if name != _UNKNOWN_ZONE and _known(name)))


@lru_cache(maxsize=4096)
def _parse(phone: str) -> phonenumbers.PhoneNumber | None:  # read only: the result is shared
    try:
        return phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return None


@cache
def _known(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@cache
def _country_zones() -> dict[str, tuple[str, ...]]:
    """ISO country -> its zones, from tzdata's zone1970.tab (shipped in the Lambda asset)."""
    text = (resources.files("tzdata") / "zoneinfo" / "zone1970.tab").read_text(encoding="utf-8")
    zones: dict[str, set[str]] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        codes, _, name = line.split("\t")[:3]
        if _known(name):
            for code in codes.split(","):
                zones.setdefault(code, set()).add(name)
    return {code: tuple(sorted(names)) for code, names in zones.items()}
