"""The words of consent: channels, statuses, bases and sources, as stored and as in the API."""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    VOICE = "voice"
    WHATSAPP = "whatsapp"
    WEBHOOK = "webhook"


class ConsentStatus(StrEnum):
    PENDING = "pending"
    GRANTED = "granted"
    REVOKED = "revoked"


class Basis(StrEnum):
    EXPRESS = "express"
    IMPLIED_PURCHASE = "implied_purchase"
    IMPLIED_INQUIRY = "implied_inquiry"
    SOFT_OPT_IN = "soft_opt_in"
    TRANSACTIONAL = "transactional"


class Source(StrEnum):
    FORM = "form"
    IMPORT = "import"
    KEYWORD = "keyword"
    LINK = "link"
    PREFERENCE_PAGE = "preference_page"
    AGENT = "agent"
    COMPLAINT = "complaint"
