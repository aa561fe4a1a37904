"""The HTML pages behind Baton's links: both locales, no undefined values, accessible, self-contained."""

from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode

import pytest

from baton.consent.vocabulary import Channel
from baton.web import (
    CONTENT_SECURITY_POLICY,
    PAGE_HEADERS,
    ChannelChoices,
    Page,
    TopicChoice,
    mask_address,
    parse_preferences_form,
    render_page,
)

LOCALES = ["en", "pt-BR"]
ACTION_URL = "https://api.example/v1/preferences/tok.sig"
CHANNELS = (
    ChannelChoices(
        Channel.EMAIL,
        (
            TopicChoice(Channel.EMAIL, "news", "News", subscribed=True),
            TopicChoice(Channel.EMAIL, "offers", "Offers & deals", subscribed=False),
        ),
        address_hint="a•••@example.com",
    ),
    ChannelChoices(Channel.SMS, (TopicChoice(Channel.SMS, "news", "News", subscribed=True),), "•••1234"),
)
SAMPLE_VALUES: dict[Page, dict[str, Any]] = {
    Page.CONFIRM: {"brand": "Acme", "action_url": ACTION_URL},
    Page.UNSUBSCRIBE: {"brand": "Acme", "action_url": ACTION_URL, "channel": "email"},
    Page.CONFIRMED: {"brand": "Acme", "preferences_url": ACTION_URL},
    Page.CONFIRM_EXPIRED: {"brand": "Acme", "support_url": "https://acme.example/help"},
    Page.PREFERENCES: {"brand": "Acme", "action_url": ACTION_URL, "channels": CHANNELS},
    Page.PREFERENCES_SAVED: {"brand": "Acme", "preferences_url": ACTION_URL},
    Page.UNSUBSCRIBED: {"brand": "Acme", "preferences_url": ACTION_URL},
    Page.ERROR: {"brand": "Acme", "support_url": "https://acme.example/help"},
}
_REQUIRED = {"brand", "action_url", "channels", "channel"}
REQUIRED_ONLY: dict[Page, dict[str, Any]] = {
    page: {key: value for key, value in values.items() if key in _REQUIRED}
    for page, values in SAMPLE_VALUES.items()
}


class _Form(HTMLParser):
    """Collects what a browser would submit: inputs and buttons, in document order."""

    def __init__(self) -> None:
        super().__init__()
        self.inputs: list[dict[str, str | None]] = []
        self.buttons: list[dict[str, str | None]] = []
        self.labels: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "input":
            self.inputs.append(attributes)
        elif tag == "button":
            self.buttons.append(attributes)
        elif tag == "label" and attributes.get("for"):
            self.labels.add(str(attributes["for"]))


def _form(html: str) -> _Form:
    parser = _Form()
    parser.feed(html)
    return parser


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("page", list(Page))
def test_every_page_renders_in_every_locale_with_its_lang(page: Page, locale: str) -> None:
    html = render_page(page, locale, **SAMPLE_VALUES[page])

    assert html.startswith("<!DOCTYPE html>")
    assert f'<html lang="{locale}">' in html
    assert "<title>" in html
    assert "<main>" in html
    assert "Acme" in html


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("page", list(Page))
def test_every_page_renders_with_only_its_required_values(page: Page, locale: str) -> None:
    assert render_page(page, locale, **REQUIRED_ONLY[page])


@pytest.mark.parametrize("page", list(Page))
def test_pages_load_nothing_from_elsewhere_and_run_no_script(page: Page) -> None:
    html = render_page(page, "en", **SAMPLE_VALUES[page])

    assert "<script" not in html
    assert "<link" not in html
    assert " src=" not in html


def test_the_one_inline_stylesheet_is_allowed_by_its_hash_in_the_policy() -> None:
    html = render_page(Page.ERROR, "en", brand="Acme")
    style = re.search(r"<style>(.*?)</style>", html, re.DOTALL)
    assert style is not None
    digest = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()

    assert f"'sha256-{digest}'" in CONTENT_SECURITY_POLICY
    assert PAGE_HEADERS["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert PAGE_HEADERS["Referrer-Policy"] == "no-referrer"  # the token in the URL stays here


def test_unknown_locale_falls_back_to_english() -> None:
    assert '<html lang="en">' in render_page(Page.ERROR, "de-DE", brand="Acme")


def test_missing_or_unknown_values_fail_loudly() -> None:
    with pytest.raises(TypeError, match="missing"):
        render_page(Page.PREFERENCES, "en", brand="Acme", channels=CHANNELS)
    with pytest.raises(TypeError, match="unknown"):
        render_page(Page.CONFIRMED, "en", brand="Acme", prefrences_url="typo")


def test_values_are_escaped() -> None:
    html = render_page(Page.ERROR, "en", brand='<img src=x onerror="alert(1)">')

    assert "<img" not in html
    assert "&lt;img" in html


@pytest.mark.parametrize("locale", LOCALES)
def test_r_canspam_2_preference_page_shows_current_status_and_posts_back_without_login(locale: str) -> None:
    html = render_page(Page.PREFERENCES, locale, **SAMPLE_VALUES[Page.PREFERENCES])
    form = _form(html)

    checkboxes = {str(i["value"]): "checked" in i for i in form.inputs if i.get("type") == "checkbox"}
    assert checkboxes == {"email:news": True, "email:offers": False, "sms:news": True}
    assert f'<form method="post" action="{ACTION_URL}">' in html
    assert not [i for i in form.inputs if i.get("type") == "password"]
    assert "a•••@example.com" in html


@pytest.mark.parametrize("locale", LOCALES)
def test_every_checkbox_has_a_label(locale: str) -> None:
    form = _form(render_page(Page.PREFERENCES, locale, **SAMPLE_VALUES[Page.PREFERENCES]))

    ids = {str(i["id"]) for i in form.inputs if i.get("type") == "checkbox"}
    assert ids
    assert ids <= form.labels


def test_enter_key_saves_and_never_unsubscribes_from_everything() -> None:
    form = _form(render_page(Page.PREFERENCES, "en", **SAMPLE_VALUES[Page.PREFERENCES]))

    # Implicit submission (Enter) uses the first submit button of the form.
    assert [b.get("value") for b in form.buttons] == ["save", "unsubscribe_all"]


def test_what_the_page_submits_is_what_the_parser_reads() -> None:
    form = _form(render_page(Page.PREFERENCES, "en", **SAMPLE_VALUES[Page.PREFERENCES]))
    # The person unticks SMS news, ticks email offers, and presses Save.
    ticked = {"email:news", "email:offers"}
    fields = [(str(i["name"]), str(i["value"])) for i in form.inputs if i.get("type") == "hidden"]
    fields += [("choice", value) for value in sorted(ticked)]
    fields.append(("action", "save"))

    choice = parse_preferences_form(urlencode(fields))

    assert choice.granted == {(Channel.EMAIL, "news"), (Channel.EMAIL, "offers")}
    assert choice.revoked == {(Channel.SMS, "news")}
    assert not choice.unsubscribe_all


@pytest.mark.parametrize(
    ("channel", "address", "masked"),
    [
        (Channel.EMAIL, "ana.silva@example.com", "a•••@example.com"),
        (Channel.SMS, "+5511987654321", "•••4321"),
        (Channel.SMS, "12", "•••"),
        (Channel.WEBHOOK, "https://hooks.example/x", "•••"),
    ],
)
def test_addresses_are_masked_on_the_page(channel: Channel, address: str, masked: str) -> None:
    assert mask_address(channel, address) == masked
