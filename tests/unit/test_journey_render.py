"""Rendering templates: the sandbox, undefined variables as errors, locale fallback, escaping."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from baton.consent.vocabulary import Channel
from baton.journeys.exceptions import TemplateRenderError
from baton.journeys.render import TemplateVariables, compile_source, locale_chain, render_message
from baton.journeys.templates import Template

VARIABLES = TemplateVariables(
    contact={"first_name": "Ana", "locale": "pt-BR", "attributes": {"plan": "pro"}},
    event={"order_id": "A-17", "tracking_url": "https://t.example/A-17"},
    brand="Baton Demo Co",
    postal_address="100 Main Street, Springfield",
    unsubscribe_url="https://u.example/x",
    preferences_url="https://p.example/x",
)


def template(locales: dict[str, Any], purpose: str = "transactional") -> Template:
    return Template.model_validate(
        {"template": "t", "owner": "ops@example.com", "purpose": purpose, "locales": locales}
    )


SHIPPED = template(
    {
        "en": {
            "sms": {"text": "{{ brand }}: order {{ event.order_id }} shipped: {{ event.tracking_url }}"},
            "email": {
                "subject": "Order {{ event.order_id }}",
                "html": "<p>Hi {{ contact.first_name }}, {{ event.note }}</p>",
                "text": "Hi {{ contact.first_name }}, {{ event.note }}",
            },
            "webhook": {"body": {"order": "{{ event.order_id }}", "who": "{{ contact.attributes.plan }}"}},
        },
        "pt": {"sms": {"text": "Pedido {{ event.order_id }} enviado"}},
        "pt-BR": {
            "email": {"subject": "Pedido {{ event.order_id }}", "text": "Olá {{ contact.first_name }}"}
        },
    }
)


def test_sms_renders_the_contacts_text() -> None:
    message = render_message(SHIPPED, Channel.SMS, "en", VARIABLES)

    assert (message.locale, message.text) == (
        "en",
        "Baton Demo Co: order A-17 shipped: https://t.example/A-17",
    )
    assert (message.subject, message.html, message.body) == (None, None, None)


@pytest.mark.parametrize(
    ("locale", "channel", "used"),
    [
        ("pt-BR", "email", "pt-BR"),
        ("pt-BR", "sms", "pt"),  # pt-BR has no SMS: pt
        ("pt_br", "sms", "pt"),  # written loosely
        ("pt-PT", "sms", "pt"),
        ("fr-CA", "sms", "en"),
        (None, "sms", "en"),
        ("pt-BR", "webhook", "en"),  # neither pt-BR nor pt has it: en
    ],
)
def test_locale_falls_back_pt_br_pt_en_and_reports_the_one_used(
    locale: str | None, channel: str, used: str
) -> None:
    variables = replace(VARIABLES, event={**VARIABLES.event, "note": ""})

    assert render_message(SHIPPED, channel, locale, variables).locale == used


def test_locale_chain() -> None:
    assert locale_chain("pt-BR") == ["pt-BR", "pt", "en"]
    assert locale_chain("EN-us") == ["en-US", "en"]
    assert locale_chain("en") == ["en"]
    assert locale_chain(None) == ["en"]


def test_an_undefined_variable_is_an_error_naming_template_locale_and_channel() -> None:
    with pytest.raises(TemplateRenderError) as raised:
        render_message(SHIPPED, Channel.EMAIL, "en", VARIABLES)  # event.note is not in the event

    error = raised.value
    assert (error.template, error.locale, error.channel) == ("t", "en", "email")
    assert "email.subject" not in str(error)
    assert "email.html: undefined variable" in str(error)
    assert "'note'" in str(error)


def test_a_channel_no_locale_has_is_an_error() -> None:
    with pytest.raises(TemplateRenderError, match="has no voice content"):
        render_message(SHIPPED, Channel.VOICE, "en", VARIABLES)


def test_html_is_autoescaped_and_text_and_subject_are_not() -> None:
    variables = replace(VARIABLES, event={"order_id": "<A&B>", "note": "<b>"})

    message = render_message(SHIPPED, Channel.EMAIL, "en", variables)

    assert message.subject == "Order <A&B>"
    assert message.html == "<p>Hi Ana, &lt;b&gt;</p>"
    assert message.text == "Hi Ana, <b>"


def test_a_subject_is_one_line() -> None:
    variables = replace(VARIABLES, event={"order_id": "A\r\nBcc: x@example.com"})

    message = render_message(SHIPPED, Channel.EMAIL, "pt-BR", variables)

    assert message.subject == "Pedido A Bcc: x@example.com"


def test_webhook_renders_each_body_value() -> None:
    message = render_message(SHIPPED, Channel.WEBHOOK, "en", VARIABLES)

    assert message.body == {"order": "A-17", "who": "pro"}


def test_none_prints_as_nothing_but_a_missing_name_is_an_error() -> None:
    hello = template({"en": {"sms": {"text": "Hi {{ contact.first_name }}!"}}})
    typo = template({"en": {"sms": {"text": "Hi {{ contact.frist_name }}!"}}})
    nameless = TemplateVariables(contact={"first_name": None, "attributes": {}})

    assert render_message(hello, Channel.SMS, "en", nameless).text == "Hi !"
    with pytest.raises(TemplateRenderError, match="frist_name"):
        render_message(typo, Channel.SMS, "en", nameless)


def test_an_unsubscribe_url_that_does_not_apply_cannot_be_printed() -> None:
    footer = template({"en": {"sms": {"text": "Stop: {{ unsubscribe_url }}"}}})

    with pytest.raises(TemplateRenderError, match="unsubscribe_url"):
        render_message(footer, Channel.SMS, "en", TemplateVariables(contact={}))


def test_the_sandbox_refuses_python_internals() -> None:
    escape = template({"en": {"sms": {"text": "{{ contact.__class__.__mro__ }}"}}})

    with pytest.raises(TemplateRenderError):
        render_message(escape, Channel.SMS, "en", VARIABLES)


def test_templates_compile_once() -> None:
    source = "Compiled once {{ brand }}"

    assert compile_source(source) is compile_source(source)
    assert compile_source(source, html=True) is not compile_source(source)


def _linked(html: str) -> Template:
    return template({"en": {"email": {"subject": "Your order", "html": html, "text": "Track it"}}})


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(document.cookie)",
        " JavaScript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
        "vbscript:msgbox(1)",
        "//evil.example/login",
        "/relative/path",
        "track",
    ],
)
@pytest.mark.parametrize(
    "html",
    [
        '<a href="{{ event.tracking_url }}">Track</a>',
        "<a href='{{ event.tracking_url }}'>Track</a>",
        "<a href={{ event.tracking_url }}>Track</a>",
        '<img SRC = "{{ event.tracking_url }}">',
        '<a href="{% if event.tracking_url %}{{ event.tracking_url }}{% endif %}">Track</a>',
        '<a href="{{ event.tracking_url if event.tracking_url else brand }}">Track</a>',
    ],
)
def test_a_link_from_event_data_that_is_not_http_or_mailto_fails_to_render(url: str, html: str) -> None:
    variables = replace(VARIABLES, event={"tracking_url": url})

    with pytest.raises(TemplateRenderError, match="http"):
        render_message(_linked(html), Channel.EMAIL, "en", variables)


@pytest.mark.parametrize(
    "url", ["https://t.example/A-17?x=1&y=2", "http://127.0.0.1:3000/v1/x", "mailto:help@example.com"]
)
def test_a_link_from_event_data_that_is_http_or_mailto_is_printed_escaped(url: str) -> None:
    variables = replace(VARIABLES, event={"tracking_url": url})

    message = render_message(
        _linked('<a href="{{ event.tracking_url }}">Track</a>'), Channel.EMAIL, "en", variables
    )

    assert message.html == f'<a href="{url.replace("&", "&amp;")}">Track</a>'


def test_a_value_after_a_literal_scheme_or_outside_links_is_printed_as_text() -> None:
    variables = replace(VARIABLES, event={"path": "javascript:x"})
    html = '<a href="https://shop.example/{{ event.path }}">{{ event.path }}</a>'

    message = render_message(_linked(html), Channel.EMAIL, "en", variables)

    assert message.html == '<a href="https://shop.example/javascript:x">javascript:x</a>'
