"""Render Baton's own messages. Each function takes plain values and a locale (fallback
`pt-BR` -> `pt` -> `en`) and returns the content; SMS texts are collapsed to one line."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from baton.consent.vocabulary import Channel
from baton.delivery.gate import FrequencyCap
from baton.delivery.message import Purpose
from baton.messages.content import EmailContent, SmsContent
from baton.messages.rendering import LocalizedTemplates

_templates = LocalizedTemplates("baton.messages")


def confirmation_email(
    *,
    locale: str | None,
    brand: str,
    confirm_url: str,
    postal_address: str,
    valid_days: int,
    first_name: str | None = None,
    support_url: str | None = None,
) -> EmailContent:
    """The double opt-in email (R-MBX-5): one link that confirms, nothing else to do."""
    values = {
        "brand": brand,
        "confirm_url": confirm_url,
        "postal_address": postal_address,
        "valid_days": valid_days,
        "first_name": first_name,
        "support_url": support_url,
    }
    return EmailContent(
        subject=_one_line(_templates.render("confirmation_email.subject.txt", locale, values)),
        html=_templates.render("confirmation_email.html", locale, values),
        text=_templates.render("confirmation_email.txt", locale, values).strip() + "\n",
    )


def stated_frequency(*, locale: str | None, caps: Iterable[FrequencyCap]) -> str:
    """The message frequency an SMS programme states (R-CTIA-2, R-CTIA-3), read from the caps
    that bind marketing texts, in the contact's language: the one that allows the fewest
    messages a day is the promise the person can hold Baton to ("Up to 3 msgs/week")."""
    binding = [cap for cap in caps if cap.applies_to(Purpose.MARKETING, Channel.SMS)]
    if not binding:
        raise ValueError("no frequency cap binds marketing texts: the programme has no frequency to state")
    cap = min(binding, key=lambda cap: cap.limit / cap.period.total_seconds())
    values = {"limit": cap.limit, "days": cap.period.days}
    return _one_line(_templates.render("sms_frequency.txt", locale, values))


def sms_confirmation_request(*, locale: str | None, brand: str, frequency: str) -> SmsContent:
    """R-CTIA-3: brand, frequency, rates, reply YES to confirm, STOP/HELP."""
    return _sms("sms_confirmation_request.txt", locale, brand=brand, frequency=frequency)


def sms_opt_in_confirmed(*, locale: str | None, brand: str, frequency: str) -> SmsContent:
    """R-CTIA-3: the one confirmation of an SMS opt-in, with the same disclosures."""
    return _sms("sms_opt_in_confirmed.txt", locale, brand=brand, frequency=frequency)


def sms_help(*, locale: str | None, brand: str, support_url: str, frequency: str) -> SmsContent:
    """R-CTIA-2: brand, support URL, frequency, rates, how to stop."""
    return _sms("sms_help.txt", locale, brand=brand, support_url=support_url, frequency=frequency)


def sms_opt_out_confirmed(*, locale: str | None, brand: str) -> SmsContent:
    """R-TCPA-5: the single confirmation after an opt-out; nothing promotional in it."""
    return _sms("sms_opt_out_confirmed.txt", locale, brand=brand)


def handoff_notice(
    *, queue: str, journey: str, step: str, text: str, task_id: str, due_at: str
) -> tuple[str, str]:
    """(subject, text) of the email to a queue's staff address about a new task (in English:
    it is for the team, not the contact)."""
    values = {
        "queue": queue,
        "journey": journey,
        "step": step,
        "text": text,
        "task_id": task_id,
        "due_at": due_at,
    }
    return (
        _one_line(_templates.render("handoff_notice.subject.txt", "en", values)),
        _templates.render("handoff_notice.txt", "en", values),
    )


def review_digest_subject(*, week: str, count: int) -> str:
    """The subject of an owner's weekly review digest (staff mail: English)."""
    return _one_line(_templates.render("review_digest.subject.txt", "en", {"week": week, "count": count}))


def _sms(name: str, locale: str | None, **values: Any) -> SmsContent:
    return SmsContent(_one_line(_templates.render(name, locale, values)))


def _one_line(text: str) -> str:
    return " ".join(text.split())
