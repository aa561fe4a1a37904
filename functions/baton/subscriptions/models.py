"""Input and output models of the public subscription routes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from baton.consent.models import Topic
from baton.contacts.models import Country, Email, LocaleTag, Name, Timezone, phone_in_country

# A web form may offer email and SMS; voice and chat consent come through the back office.
FormChannel = Literal["email", "sms"]


def _text(max_length: int) -> StringConstraints:
    return StringConstraints(strip_whitespace=True, min_length=1, max_length=max_length)


class SubscriptionRequest(BaseModel):
    """`POST /v1/subscriptions` (contract). Unknown fields are refused and named."""

    model_config = ConfigDict(extra="forbid")

    country: Country | None = None  # before `phone`: the default region of a national number
    email: Email | None = None
    phone: Annotated[str, StringConstraints(max_length=64)] | None = None
    first_name: Name | None = None
    locale: LocaleTag | None = None
    timezone: Timezone | None = None
    topics: Annotated[list[Topic], Field(max_length=20)] | None = None
    channels: Annotated[list[FormChannel], Field(min_length=1, max_length=2)]
    consent_text: Annotated[str, _text(5000)] | None = None
    form_id: Annotated[str, _text(200)] | None = None
    page_url: Annotated[str, _text(2048)] | None = None

    _phone = field_validator("phone")(phone_in_country)

    def missing_address(self) -> str | None:
        """The address field a chosen channel needs but the form left out."""
        if "email" in self.channels and self.email is None:
            return "email"
        if "sms" in self.channels and self.phone is None:
            return "phone"
        return None


class SubscriptionAccepted(BaseModel):
    """Always the same answer, subscribed before or not: the form must not reveal who is on a list."""

    contact_id: str
    status: Literal["pending_confirmation"] = "pending_confirmation"


@dataclass(frozen=True)
class Caller:
    """Who sent the request, as API Gateway saw it: kept as consent proof (R-GDPR-2)."""

    ip: str | None
    user_agent: str | None


@dataclass(frozen=True)
class HtmlPage:
    """A rendered page and its status code."""

    status: int
    html: str
