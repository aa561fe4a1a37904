"""Baton's own messages and the disclosures each must carry, in en and pt-BR (R-CTIA-2/3, R-TCPA-5)."""

from __future__ import annotations

from importlib import resources
from typing import Any

import pytest
from jinja2 import UndefinedError
from jinja2.exceptions import SecurityError

from baton.delivery.gate import FrequencyCap
from baton.messages import (
    SmsContent,
    confirmation_email,
    sms_confirmation_request,
    sms_help,
    sms_opt_in_confirmed,
    sms_opt_out_confirmed,
    texts,
)
from baton.messages.rendering import LocalizedTemplates, locale_chain, normalize_locale
from baton.sms.segments import Encoding

BRAND = "Acme"
FREQUENCY = "Up to 4 msgs/month"
SUPPORT = "https://acme.example/help"
LOCALES = ["en", "pt-BR"]
RATES = {"en": "Msg & data rates may apply", "pt-BR": "Podem ser cobradas tarifas de msg e dados"}
STOP_WORD = {"en": "STOP", "pt-BR": "SAIR"}
HELP_WORD = {"en": "HELP", "pt-BR": "AJUDA"}
YES_WORD = {"en": "YES", "pt-BR": "SIM"}


def _all_sms(locale: str) -> list[str]:
    return [
        sms_confirmation_request(locale=locale, brand=BRAND, frequency=FREQUENCY).text,
        sms_opt_in_confirmed(locale=locale, brand=BRAND, frequency=FREQUENCY).text,
        sms_help(locale=locale, brand=BRAND, support_url=SUPPORT, frequency=FREQUENCY).text,
        sms_opt_out_confirmed(locale=locale, brand=BRAND).text,
    ]


@pytest.mark.parametrize("locale", LOCALES)
def test_r_ctia_3_sms_confirmation_request_names_brand_frequency_rates_yes_stop_help(locale: str) -> None:
    text = sms_confirmation_request(locale=locale, brand=BRAND, frequency=FREQUENCY).text

    assert text.startswith(f"{BRAND}:")
    for needed in (FREQUENCY, RATES[locale], YES_WORD[locale], STOP_WORD[locale], HELP_WORD[locale]):
        assert needed in text


@pytest.mark.parametrize("locale", LOCALES)
def test_r_ctia_3_opt_in_confirmation_repeats_the_disclosures(locale: str) -> None:
    text = sms_opt_in_confirmed(locale=locale, brand=BRAND, frequency=FREQUENCY).text

    for needed in (BRAND, FREQUENCY, RATES[locale], STOP_WORD[locale], HELP_WORD[locale]):
        assert needed in text


@pytest.mark.parametrize("locale", LOCALES)
def test_r_ctia_2_help_reply_names_brand_support_frequency_rates_and_how_to_stop(locale: str) -> None:
    text = sms_help(locale=locale, brand=BRAND, support_url=SUPPORT, frequency=FREQUENCY).text

    for needed in (BRAND, SUPPORT, FREQUENCY, RATES[locale], STOP_WORD[locale]):
        assert needed in text


@pytest.mark.parametrize("locale", LOCALES)
def test_r_tcpa_5_opt_out_confirmation_is_one_plain_text_with_nothing_promotional(locale: str) -> None:
    content = sms_opt_out_confirmed(locale=locale, brand=BRAND)

    assert content.text.startswith(f"{BRAND}:")
    assert content.segments.parts == 1
    assert "http" not in content.text
    assert FREQUENCY not in content.text


@pytest.mark.parametrize("locale", LOCALES)
def test_r_sms_1_every_sms_is_gsm7_and_at_most_two_parts(locale: str) -> None:
    for text in _all_sms(locale):
        segments = SmsContent(text).segments
        assert segments.encoding == Encoding.GSM7, text
        assert segments.parts <= 2, text


def test_sms_texts_are_one_line_without_template_whitespace() -> None:
    for text in _all_sms("en") + _all_sms("pt-BR"):
        assert "\n" not in text
        assert "  " not in text
        assert text == text.strip()


@pytest.mark.parametrize("locale", LOCALES)
def test_confirmation_email_carries_link_brand_and_postal_address(locale: str) -> None:
    url = "https://api.example/v1/confirm/abc.def?x=1&y=2"

    email = confirmation_email(
        locale=locale,
        brand=BRAND,
        confirm_url=url,
        postal_address="1 Main St, Springfield",
        valid_days=7,
        first_name="Ana",
        support_url=SUPPORT,
    )

    assert BRAND in email.subject
    assert "\n" not in email.subject
    assert 'href="https://api.example/v1/confirm/abc.def?x=1&amp;y=2"' in email.html
    assert url in email.text
    for part in (email.html, email.text):
        assert "1 Main St, Springfield" in part
        assert "Ana" in part
        assert "7" in part
    assert f'<html lang="{locale}">' in email.html


def test_confirmation_email_escapes_values_in_html_but_not_in_text() -> None:
    email = confirmation_email(
        locale="en",
        brand="<b>Acme</b>",
        confirm_url="https://x.example/c",
        postal_address="A & B",
        valid_days=7,
    )

    assert "&lt;b&gt;Acme&lt;/b&gt;" in email.html
    assert "<b>Acme</b>" not in email.html
    assert "A &amp; B" in email.html
    assert "<b>Acme</b>" in email.text


def test_confirmation_email_without_optional_values_still_renders() -> None:
    email = confirmation_email(
        locale="en", brand=BRAND, confirm_url="https://x.example/c", postal_address="Addr", valid_days=7
    )

    assert email.text.startswith("Hi,")
    assert "Help" not in email.text


def test_portuguese_locale_gets_portuguese_texts_and_others_fall_back_to_english() -> None:
    assert "Responda SIM" in _all_sms("pt-BR")[0]
    assert "Responda SIM" in _all_sms("pt_br")[0]
    assert "Reply YES" in _all_sms("fr-FR")[0]
    assert "Reply YES" in sms_confirmation_request(locale=None, brand=BRAND, frequency=FREQUENCY).text


def test_locale_chain_falls_back_from_region_to_language_to_english() -> None:
    assert locale_chain("pt-BR") == ("pt-BR", "pt", "en")
    assert locale_chain("pt_br") == ("pt-BR", "pt", "en")
    assert locale_chain("en-US") == ("en-US", "en")
    assert locale_chain("") == ("en",)
    assert normalize_locale(" PT-br ") == "pt-BR"


# Mail to the deployment's own staff (a hand-off queue's address) is written in English only.
STAFF_ONLY = {"handoff_notice.subject.txt", "handoff_notice.txt", "review_digest.subject.txt"}


def test_every_message_template_exists_in_every_locale() -> None:
    root = resources.files("baton.messages") / "templates"
    names = {locale: sorted(item.name for item in (root / locale).iterdir()) for locale in LOCALES}

    assert sorted(set(names["en"]) - STAFF_ONLY) == names["pt-BR"]
    assert len(names["en"]) == 8 + len(STAFF_ONLY)
    assert set(names["en"]) >= STAFF_ONLY


def test_templates_fail_loudly_on_an_undefined_variable() -> None:
    templates = LocalizedTemplates("baton.messages")

    with pytest.raises(UndefinedError):
        templates.render("sms_help.txt", "en", {"brand": BRAND})


def test_templates_run_in_a_sandbox() -> None:
    templates = LocalizedTemplates("baton.messages")

    with pytest.raises(SecurityError):
        templates.environment.from_string("{{ brand.__class__.__mro__ }}").render(brand=BRAND)


@pytest.mark.parametrize(
    ("locale", "caps", "stated"),
    [
        ("en", [{"purpose": "marketing", "channel": None, "limit": 3, "days": 7}], "Up to 3 msgs/week"),
        ("pt-BR", [{"purpose": "marketing", "channel": None, "limit": 3, "days": 7}], "Até 3 msgs/semana"),
        ("pt-BR", [{"purpose": "marketing", "channel": "sms", "limit": 1, "days": 1}], "Até 1 msg/dia"),
        (
            "en",
            [
                {"purpose": "marketing", "channel": None, "limit": 3, "days": 7},
                {"purpose": "marketing", "channel": "sms", "limit": 2, "days": 30},
                {"purpose": "marketing", "channel": "email", "limit": 1, "days": 30},
            ],
            "Up to 2 msgs/month",
        ),
        ("en", [{"purpose": "marketing", "channel": None, "limit": 5, "days": 14}], "Up to 5 msgs/14 days"),
    ],
)
def test_r_ctia_3_the_frequency_stated_is_what_the_caps_allow_in_the_contacts_language(
    locale: str, caps: list[dict[str, Any]], stated: str
) -> None:
    parsed = [FrequencyCap.parse(cap) for cap in caps]

    assert texts.stated_frequency(locale=locale, caps=parsed) == stated
