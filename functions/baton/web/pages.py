"""Render the HTML pages behind Baton's links, in the contact's locale (en, pt-BR).

Pages are self-contained: one inline stylesheet (allowed by hash in the Content-Security-
Policy), no scripts, no external assets. Send them with `PAGE_HEADERS`: `no-referrer` keeps
the token in the URL from leaking to any linked site, `no-store` keeps it out of caches.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import resources
from types import MappingProxyType
from typing import Any

from markupsafe import Markup

from baton.consent.vocabulary import Channel
from baton.messages.rendering import LocalizedTemplates


class Page(StrEnum):
    CONFIRM = "confirm"  # the confirmation link's page: one button that confirms (a GET changes nothing)
    CONFIRMED = "confirmed"
    CONFIRM_EXPIRED = "confirm_expired"  # already confirmed, or the link expired
    PREFERENCES = "preferences"
    PREFERENCES_SAVED = "preferences_saved"
    UNSUBSCRIBE = "unsubscribe"  # the body link's page: one button that unsubscribes
    UNSUBSCRIBED = "unsubscribed"
    ERROR = "error"  # invalid link: goes with a 403


@dataclass(frozen=True)
class _Spec:
    required: frozenset[str]
    optional: dict[str, Any] = field(default_factory=dict)


_SPECS: dict[Page, _Spec] = {
    # action_url: where the button posts (the same link: its POST does what the GET only offers).
    Page.CONFIRM: _Spec(frozenset({"brand", "action_url"})),
    Page.UNSUBSCRIBE: _Spec(frozenset({"brand", "action_url", "channel"})),
    Page.CONFIRMED: _Spec(frozenset({"brand"}), {"preferences_url": None}),
    Page.CONFIRM_EXPIRED: _Spec(frozenset({"brand"}), {"support_url": None}),
    # channels: a sequence of `ChannelChoices`; action_url: this page's own URL (the form posts back).
    Page.PREFERENCES: _Spec(frozenset({"brand", "action_url", "channels"})),
    Page.PREFERENCES_SAVED: _Spec(frozenset({"brand"}), {"preferences_url": None}),
    Page.UNSUBSCRIBED: _Spec(frozenset({"brand"}), {"preferences_url": None}),
    Page.ERROR: _Spec(frozenset({"brand"}), {"support_url": None}),
}

_STYLE = resources.files("baton.web").joinpath("templates", "style.css").read_text(encoding="utf-8").strip()
_STYLE_HASH = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        f"style-src 'sha256-{_STYLE_HASH}'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)
PAGE_HEADERS = MappingProxyType(
    {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    }
)

_templates = LocalizedTemplates("baton.web", globals_={"style": Markup(_STYLE)})  # noqa: S704 (our own file)


def render_page(name: Page | str, locale: str | None, **values: Any) -> str:
    """The page `name` in `locale` (falling back to `pt` then `en`).

    Raises TypeError for a missing or unknown value, so a typo fails in tests, not in the page.
    """
    page = Page(name)
    spec = _SPECS[page]
    missing = spec.required - values.keys()
    unknown = values.keys() - spec.required - spec.optional.keys()
    if missing or unknown:
        raise TypeError(f"page {page}: missing {sorted(missing)}, unknown {sorted(unknown)}")
    template, lang = _templates.find(f"{page}.html", locale)
    return template.render({**spec.optional, **values, "lang": lang})


def mask_address(channel: Channel, address: str) -> str:
    """Enough of an address to recognise it, not enough to harvest it from a forwarded link."""
    if channel == Channel.EMAIL and "@" in address:
        local, _, domain = address.rpartition("@")
        return f"{local[:1]}•••@{domain}"
    digits = [ch for ch in address if ch.isdigit()]
    if channel in (Channel.SMS, Channel.VOICE, Channel.WHATSAPP) and len(digits) >= 4:
        return "•••" + "".join(digits[-4:])
    return "•••"
