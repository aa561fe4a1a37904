"""Contact fields are normalised to one stored form, or refused with an error naming the field."""

from __future__ import annotations

import pytest

from baton.consent.vocabulary import Channel
from baton.contacts.exceptions import (
    InvalidContactField,
    InvalidCountry,
    InvalidEmail,
    InvalidLocale,
    InvalidPhone,
    InvalidTimezone,
)
from baton.contacts.normalize import (
    Locale,
    iso_countries,
    normalize_address,
    normalize_country,
    normalize_email,
    normalize_locale,
    normalize_phone,
    normalize_timezone,
)


@pytest.mark.parametrize(
    ("raw", "country", "e164"),
    [
        ("+1 201-555-0123", None, "+12015550123"),
        ("+1 (201) 555-0123", None, "+12015550123"),
        ("+12015550123", None, "+12015550123"),
        ("tel:+1-201-555-0123", None, "+12015550123"),
        ("(201) 555-0123", "US", "+12015550123"),
        ("201.555.0123", "us", "+12015550123"),
        ("1 201 555 0123", "US", "+12015550123"),
        ("011 44 20 7946 0958", "US", "+442079460958"),  # US international dialling prefix
        ("+55 (11) 91234-5678", None, "+5511912345678"),
        ("(11) 91234-5678", "BR", "+5511912345678"),
        ("11912345678", "BR", "+5511912345678"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("+44 (0)20 7946 0958", None, "+442079460958"),
        ("912 345 678", "PT", "+351912345678"),
        ("  +351 912 345 678  ", "BR", "+351912345678"),  # an explicit +CC wins over the country
    ],
)
def test_phone_in_any_common_form_is_stored_as_e164(raw: str, country: str | None, e164: str) -> None:
    assert normalize_phone(raw, country) == e164


def test_national_phone_without_country_is_refused_asking_for_the_country_code() -> None:
    with pytest.raises(InvalidPhone, match=r"\+CC") as error:
        normalize_phone("(201) 555-0123")

    assert error.value.field == "phone"


@pytest.mark.parametrize(
    ("raw", "country"),
    [
        ("", None),
        ("   ", "US"),
        ("call me maybe", "US"),
        ("+1 201 555 01", None),  # too short
        ("+1 000 555 0123", None),  # no such area code
        ("+999 1234 5678", None),  # no such country code
        ("1" * 70, "US"),
        ("(11) 91234-5678", "XX"),  # the country itself is not a country
    ],
)
def test_invalid_phone_is_refused_naming_phone(raw: str, country: str | None) -> None:
    with pytest.raises(InvalidContactField) as error:
        normalize_phone(raw, country)

    assert error.value.field in {"phone", "country"}


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("ana@example.com", "ana@example.com"),
        ("Ana.Silva@Example.COM", "ana.silva@example.com"),
        ("  bob+news@example.org ", "bob+news@example.org"),
        ("JOSÉ@Exemplo.com.br", "josé@exemplo.com.br"),
    ],
)
def test_email_is_stored_lower_cased(raw: str, stored: str) -> None:
    assert normalize_email(raw) == stored


@pytest.mark.parametrize(
    "raw",
    ["", "no-at-sign", "two@@example.com", "ana@", "@example.com", "Ana <ana@example.com>", "ana@example"],
)
def test_invalid_email_is_refused_naming_email(raw: str) -> None:
    with pytest.raises(InvalidEmail) as error:
        normalize_email(raw)

    assert error.value.field == "email"


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("America/Sao_Paulo", "America/Sao_Paulo"),
        ("america/sao_paulo", "America/Sao_Paulo"),
        (" Europe/Lisbon ", "Europe/Lisbon"),
        ("UTC", "UTC"),
        ("America/Indiana/Indianapolis", "America/Indiana/Indianapolis"),
    ],
)
def test_timezone_is_a_canonical_iana_name(raw: str, canonical: str) -> None:
    assert normalize_timezone(raw) == canonical


@pytest.mark.parametrize("raw", ["", "Mars/Olympus_Mons", "GMT+3:00", "../../etc/passwd", "Sao Paulo"])
def test_unknown_timezone_is_refused_naming_timezone(raw: str) -> None:
    with pytest.raises(InvalidTimezone) as error:
        normalize_timezone(raw)

    assert error.value.field == "timezone"


@pytest.mark.parametrize(
    ("raw", "locale"),
    [
        ("en", Locale.EN),
        ("EN", Locale.EN),
        ("en-US", Locale.EN),
        ("en_GB", Locale.EN),
        ("pt-BR", Locale.PT_BR),
        ("pt-br", Locale.PT_BR),
        ("PT_br", Locale.PT_BR),
        ("pt", Locale.PT_BR),
        (" pt-BR ", Locale.PT_BR),
    ],
)
def test_supported_locales_are_accepted_in_any_case(raw: str, locale: Locale) -> None:
    assert normalize_locale(raw) == locale


@pytest.mark.parametrize("raw", ["", "pt-PT", "es", "fr-CA", "english", "en-", "pt-BR-x-", "12"])
def test_unsupported_locale_is_refused_naming_locale(raw: str) -> None:
    with pytest.raises(InvalidLocale) as error:
        normalize_locale(raw)

    assert error.value.field == "locale"


@pytest.mark.parametrize(("raw", "code"), [("BR", "BR"), ("br", "BR"), (" us ", "US"), ("aq", "AQ")])
def test_country_is_an_upper_case_iso_3166_code(raw: str, code: str) -> None:
    assert normalize_country(raw) == code


@pytest.mark.parametrize("raw", ["", "XX", "BRA", "Brazil", "UK", "B"])
def test_unknown_country_is_refused_naming_country(raw: str) -> None:
    with pytest.raises(InvalidCountry) as error:
        normalize_country(raw)

    assert error.value.field == "country"


def test_country_list_is_the_real_iso_3166_list() -> None:
    countries = iso_countries()

    assert {"BR", "US", "PT", "GB", "DE", "JP"} <= countries
    assert 240 <= len(countries) <= 260


@pytest.mark.parametrize(
    ("channel", "raw", "address"),
    [
        (Channel.EMAIL, "Ana@Example.com", "ana@example.com"),
        (Channel.SMS, "+1 (201) 555-0123", "+12015550123"),
        (Channel.VOICE, "+55 11 91234-5678", "+5511912345678"),
        (Channel.WHATSAPP, "+55 11 91234-5678", "+5511912345678"),
    ],
)
def test_address_is_normalised_for_its_channel(channel: Channel, raw: str, address: str) -> None:
    assert normalize_address(channel, raw) == address


def test_phone_channel_address_must_carry_its_country_code() -> None:
    with pytest.raises(InvalidPhone):
        normalize_address(Channel.SMS, "(201) 555-0123")


@pytest.mark.parametrize(
    ("channel", "raw", "address"),
    [
        (Channel.SMS, "+1 000 555 0123", "+10005550123"),  # parseable, not valid today
        (Channel.EMAIL, "Old.Style@Localhost", "old.style@localhost"),
    ],
)
def test_lenient_addresses_still_normalise_data_that_todays_rules_refuse(
    channel: Channel, raw: str, address: str
) -> None:
    with pytest.raises(InvalidContactField):
        normalize_address(channel, raw)

    assert normalize_address(channel, raw, strict=False) == address


@pytest.mark.parametrize("raw", ["ana@example.com", "+12015550123", "+55 11 91234-5678"])
def test_lenient_and_strict_agree_on_every_valid_address(raw: str) -> None:
    channel = Channel.EMAIL if "@" in raw else Channel.SMS

    assert normalize_address(channel, raw, strict=False) == normalize_address(channel, raw)


def test_an_empty_address_is_refused_even_leniently() -> None:
    with pytest.raises(InvalidContactField):
        normalize_address(Channel.WEBHOOK, "  ", strict=False)
