"""Render a template for one channel and locale: Jinja2 in a sandbox, undefined variables an error.

Locale falls back `pt-BR` -> `pt` -> `en` (contract); the first locale of that chain that has
content for the channel is used and returned. HTML is autoescaped, nothing else is (a subject or
an SMS is plain text). A `None` value prints as nothing (a contact without a first name), while
a name that does not exist at all is an error (`{{ contact.frist_name }}`).

In HTML, a value printed where a link's address begins (`href="{{ event.tracking_url }}"`, and
`src`, `action`, ...) must be an http(s) or mailto URL, or the message fails to render: event
data is the caller's, and a `javascript:` or `data:` link in an email runs in some clients and
deceives in all. Relative links are refused too: an email has no page they could be relative
to. The check is added when the template is compiled, to every such place; a literal prefix
that already fixes the scheme (`href="https://shop.example.com/{{ event.path }}"`) needs none.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import jinja2
from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream
from jinja2.sandbox import SandboxedEnvironment

from baton.consent.vocabulary import Channel
from baton.journeys.exceptions import TemplateRenderError
from baton.journeys.templates import EmailContent, LocaleContent, Template, TextContent, WebhookContent

# The only names a template sees (contract, ARCHITECTURE.md "Templates").
VARIABLES = frozenset({"contact", "event", "brand", "postal_address", "unsubscribe_url", "preferences_url"})
DEFAULT_LOCALE = "en"


@dataclass(frozen=True)
class TemplateVariables:
    """What a template may read. `contact` is the contact's fields with `attributes`; `event` the
    trigger event's `data`. The URLs are None where they do not apply (a transactional message has
    no unsubscribe link): a template that uses a None URL fails to render instead of printing nothing.
    """

    contact: Mapping[str, Any]
    event: Mapping[str, Any] = field(default_factory=dict)
    brand: str = ""
    postal_address: str = ""
    unsubscribe_url: str | None = None
    preferences_url: str | None = None

    def context(self) -> dict[str, Any]:
        values: dict[str, Any] = {
            "contact": self.contact,
            "event": self.event,
            "brand": self.brand,
            "postal_address": self.postal_address,
            "unsubscribe_url": self.unsubscribe_url,
            "preferences_url": self.preferences_url,
        }
        return {name: value for name, value in values.items() if value is not None}


@dataclass(frozen=True)
class RenderedMessage:
    """email: subject, html (may be None), text; sms, voice, whatsapp: text; webhook: body."""

    template: str
    channel: Channel
    locale: str  # the locale actually used
    text: str | None = None
    subject: str | None = None
    html: str | None = None
    body: dict[str, str] | None = None


def locale_chain(locale: str | None) -> list[str]:
    """`pt_br` -> ["pt-BR", "pt", "en"]; None -> ["en"]."""
    chain: list[str] = []
    if locale:
        language, _, region = locale.replace("_", "-").partition("-")
        language = language.lower()
        if region:
            chain.append(f"{language}-{region.upper()}")
        chain.append(language)
    chain.append(DEFAULT_LOCALE)
    return list(dict.fromkeys(chain))


def content_for(template: Template, channel: Channel | str, locale: str | None) -> tuple[str, Any] | None:
    """(locale used, the channel's content) along the fallback chain, or None if no locale has it."""
    for candidate in locale_chain(locale):
        content: LocaleContent | None = template.locales.get(candidate)
        part = getattr(content, str(channel), None) if content is not None else None
        if part is not None:
            return candidate, part
    return None


def render_message(
    template: Template, channel: Channel | str, locale: str | None, variables: TemplateVariables
) -> RenderedMessage:
    """Render `template` for `channel` in the contact's `locale`; raises TemplateRenderError."""
    channel = Channel(channel)
    found = content_for(template, channel, locale)
    if found is None:
        raise TemplateRenderError(
            template.template, locale, channel, f"the template has no {channel} content", kind="no_content"
        )
    used, content = found
    context = variables.context()

    def render(source: str, *, html: bool = False, what: str) -> str:
        try:
            return compile_source(source, html=html).render(context)
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateRenderError(
                template.template,
                used,
                channel,
                f"{what}: syntax error on line {exc.lineno}: {exc.message}",
                kind="syntax_error",
                part=what,
            ) from exc
        except jinja2.UndefinedError as exc:
            raise TemplateRenderError(
                template.template,
                used,
                channel,
                f"{what}: undefined variable: {exc.message}",
                kind="undefined_variable",
                part=what,
            ) from exc
        except (jinja2.TemplateError, TypeError, ValueError, ArithmeticError) as exc:
            raise TemplateRenderError(template.template, used, channel, f"{what}: {exc}", part=what) from exc

    match content:
        case EmailContent():
            return RenderedMessage(
                template.template,
                channel,
                used,
                subject=" ".join(render(content.subject, what="email.subject").split()),
                html=render(content.html, html=True, what="email.html") if content.html is not None else None,
                text=render(content.text, what="email.text"),
            )
        case TextContent():
            return RenderedMessage(
                template.template, channel, used, text=render(content.text, what=f"{channel}.text").strip()
            )
        case WebhookContent():
            body = {key: render(value, what=f"webhook.body.{key}") for key, value in content.body.items()}
            return RenderedMessage(template.template, channel, used, body=body)
    raise TemplateRenderError(template.template, used, channel, "unknown content")  # pragma: no cover


def _finalize(value: Any) -> Any:
    return "" if value is None else value


LINK_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_FILTER = "link_url"
# HTML attributes whose value a mail client follows or loads as a URL.
_URL_ATTRIBUTE_OPEN = re.compile(
    r"""\b(?:href|src|action|formaction|poster|background|cite|longdesc|xlink:href)\s*=\s*"""
    r"""(?:"(?P<dq>[^"]*)|'(?P<sq>[^']*)|(?P<bare>[^\s"'>]*))\Z""",
    re.IGNORECASE,
)
# A printed value stands in the literal text as this mark, so it counts as part of the value.
_PRINTED = "\x00"
_SCHEME_FIXED = re.compile(r"^[^:/?#]*[:/?#]")
# Enough of the preceding literal text to see the attribute a value is printed in.
_LOOKBEHIND = 4096


def link_url(value: Any) -> Any:
    """A value printed where a link's address begins: only an absolute http(s) or a mailto URL."""
    if value is None:
        return value
    parts = urlsplit(str(value))  # drops what browsers drop too: surrounding spaces, tabs, newlines
    if parts.scheme.lower() not in LINK_SCHEMES or (parts.scheme.lower() != "mailto" and not parts.netloc):
        raise ValueError("a link (href, src) must be an absolute http(s) or a mailto URL")
    return value


def _url_value_prefix(literal: str) -> str | None:
    """The attribute value written so far if `literal` ends inside a URL attribute, else None."""
    match = _URL_ATTRIBUTE_OPEN.search(literal[-_LOOKBEHIND:])
    if match is None:
        return None
    return match.group("dq") or match.group("sq") or match.group("bare") or ""


class LinkCheck(Extension):
    """Pipes every value printed at the start of a URL attribute's value through `link_url`.

    Read from the template's own text at compile time, not from the rendered HTML: the value
    is checked before it is printed, and nothing printed can hide a link from the check.
    """

    def __init__(self, environment: jinja2.Environment) -> None:
        super().__init__(environment)
        environment.filters[LINK_FILTER] = link_url

    def filter_stream(self, stream: TokenStream) -> Iterator[Token]:
        literal = ""
        checking = False
        for token in stream:
            if token.type == "data":
                literal = (literal + token.value)[-_LOOKBEHIND:]
            elif token.type == "variable_begin":
                prefix = _url_value_prefix(literal)
                checking = prefix is not None and not _SCHEME_FIXED.match(prefix.replace(_PRINTED, ""))
                yield token
                if checking:
                    yield Token(token.lineno, "lparen", "(")
                continue
            elif token.type == "variable_end":
                if checking:
                    yield Token(token.lineno, "rparen", ")")
                    yield Token(token.lineno, "pipe", "|")
                    yield Token(token.lineno, "name", LINK_FILTER)
                    checking = False
                literal += _PRINTED
            yield token


@lru_cache(maxsize=2)
def sandbox(*, html: bool) -> SandboxedEnvironment:
    """The one environment for each mode: StrictUndefined, autoescape for HTML only."""
    return SandboxedEnvironment(
        undefined=jinja2.StrictUndefined,
        autoescape=html,
        finalize=_finalize,
        keep_trailing_newline=False,
        extensions=[LinkCheck] if html else [],
    )


@lru_cache(maxsize=4096)
def compile_source(source: str, *, html: bool = False) -> jinja2.Template:
    """Compiled once per process (templates are read once per cold start); raises TemplateSyntaxError."""
    return sandbox(html=html).from_string(source)
