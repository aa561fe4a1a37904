"""Pure normalisation of contact fields: one canonical stored form per value, or a field error.

- phone: any common form -> E.164. A national number needs the contact's `country` (its
  default region); without one the number must start with `+` and its country code. The
  number must be valid for its region (phonenumbers metadata), not merely possible.
- email: syntax checked by email-validator (no DNS lookups), stored lower-cased so lookups
  are case-insensitive.
- timezone: an IANA zone name from tzdata; matched case-insensitively, stored canonically.
- locale: see `normalize_locale`.
- country: ISO 3166 alpha-2 from tzdata's iso3166.tab, upper-cased.
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import cache
from importlib import resources
from zoneinfo import available_timezones

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from baton.consent.vocabulary import Channel
from baton.contacts.exceptions import (
    InvalidContactField,
    InvalidCountry,
    InvalidEmail,
    InvalidLocale,
    InvalidPhone,
    InvalidTimezone,
)

# Channels whose address is a phone number (suppression hashes a number once per channel).
PHONE_CHANNELS: tuple[Channel, ...] = (Channel.SMS, Channel.VOICE, Channel.WHATSAPP)

_MAX_PHONE_INPUT = 64
_LOCALE_TAG = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$")


class Locale(StrEnum):
    """The locales Baton has texts for (ARCHITECTURE: templates in `en` and `pt-BR`)."""

    EN = "en"
    PT_BR = "pt-BR"


def normalize_phone(raw: str, country: str | None = None) -> str:
    """E.164 (`+5511912345678`) from any common written form; `country` is the default region."""
    text = raw.strip()
    if not text:
        raise InvalidPhone("The phone number is empty.")
    if len(text) > _MAX_PHONE_INPUT:
        raise InvalidPhone("The phone number is too long.")
    region = normalize_country(country) if country else None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        if exc.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE:
            raise InvalidPhone(
                "The phone number needs its country code (+CC), or give the contact's country."
            ) from exc
        raise InvalidPhone("This is not a phone number.") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone("This phone number is not valid for its country.")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def normalize_email(raw: str) -> str:
    """The address in canonical, lower-cased form; syntax only, no DNS (check_deliverability=False)."""
    try:
        result = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidEmail(str(exc)) from exc
    return result.normalized.lower()


@cache
def _timezones() -> dict[str, str]:
    return {name.casefold(): name for name in available_timezones()}


def normalize_timezone(raw: str) -> str:
    """The canonical IANA name (`America/Sao_Paulo`), matched case-insensitively."""
    name = _timezones().get(raw.strip().casefold())
    if name is None:
        raise InvalidTimezone(f"{raw.strip()!r} is not an IANA time zone (for example America/Sao_Paulo).")
    return name


def normalize_locale(raw: str) -> Locale:
    """`en` or `pt-BR`, from a BCP 47 tag, case-insensitive, `_` taken as `-`.

    - `en` and any English variant (`en-US`, `en_GB`, `EN`) -> `en`: Baton has one English.
    - `pt-BR` in any case (`pt-br`, `pt_BR`) and bare `pt` -> `pt-BR`: the only Portuguese it has.
    - Any other language or region (`pt-PT`, `es`, `fr-CA`) is refused rather than silently
      answered in a language the contact did not choose.
    """
    text = raw.strip()
    if not _LOCALE_TAG.match(text):
        raise InvalidLocale(f"{text!r} is not a locale tag; use en or pt-BR.")
    parts = text.replace("_", "-").lower().split("-")
    language, rest = parts[0], parts[1:]
    if language == "en":
        return Locale.EN
    if language == "pt" and (not rest or rest == ["br"]):
        return Locale.PT_BR
    raise InvalidLocale(f"Unsupported locale {text!r}; use en or pt-BR.")


@cache
def iso_countries() -> frozenset[str]:
    """ISO 3166 alpha-2 codes, from the iso3166.tab that ships with tzdata."""
    table = resources.files("tzdata.zoneinfo").joinpath("iso3166.tab").read_text(encoding="utf-8")
    codes = (line.split("\t", 1)[0] for line in table.splitlines() if line and not line.startswith("#"))
    return frozenset(code.strip() for code in codes if len(code.strip()) == 2)


def normalize_country(raw: str) -> str:
    """An ISO 3166 alpha-2 code, upper-cased (`br` -> `BR`)."""
    code = raw.strip().upper()
    if code not in iso_countries():
        raise InvalidCountry(f"{raw.strip()!r} is not an ISO 3166 alpha-2 country code.")
    return code


def normalize_address(channel: Channel, address: str, *, strict: bool = True) -> str:
    """The canonical address of a channel: lower-cased email, E.164 for phone channels.

    Consent entries (R-TCPA-1: the exact number) and suppression hashes use this form, so the
    same person written differently always means the same address.

    `strict=False` is for suppression keys only: an address that was valid when stored must
    still hash the same after a phonenumbers or email-validator upgrade stops accepting it,
    so erasure and send checks never fail on old data. For every address the strict rules
    accept, both modes give the same result.
    """
    text = address.strip()
    if not text:
        raise InvalidContactField("The address is empty.")
    if channel == Channel.EMAIL:
        try:
            return normalize_email(text)
        except InvalidEmail:
            if strict or "@" not in text:
                raise
            return text.lower()
    if channel in PHONE_CHANNELS:
        try:
            return normalize_phone(text)
        except InvalidPhone:
            if strict:
                raise
            return _e164_unchecked(text)
    return text


def _e164_unchecked(text: str) -> str:
    """E.164 of an international number without the validity check (see `normalize_address`)."""
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone("This is not a phone number with its country code.") from exc
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
