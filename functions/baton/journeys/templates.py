"""Message templates (contract): `journeys/templates/<id>.yaml`, per locale and channel."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, Field, model_validator
from pydantic_core import PydanticCustomError

from baton.journeys.models import JOURNEY_ID_PATTERN, Purpose

LOCALE_PATTERN = r"^[a-z]{2}(-[A-Z]{2})?$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Text = Annotated[str, Field(min_length=1, max_length=100_000)]


class EmailContent(_Strict):
    subject: Annotated[str, Field(min_length=1, max_length=998)]
    html: Text | None = None
    text: Text


class TextContent(_Strict):
    text: Text


class WebhookContent(_Strict):
    """The JSON body posted to the configured URL; string values are templates."""

    body: dict[str, Annotated[str, Field(max_length=10_000)]]


class LocaleContent(_Strict):
    email: EmailContent | None = None
    sms: TextContent | None = None
    voice: TextContent | None = None
    whatsapp: TextContent | None = None
    webhook: WebhookContent | None = None


class Template(_Strict):
    template: Annotated[str, Field(pattern=JOURNEY_ID_PATTERN)]
    description: Annotated[str, Field(max_length=1000)] | None = None
    owner: EmailStr
    purpose: Purpose
    approved_by: EmailStr | None = None
    review_by: date | None = None
    locales: dict[Annotated[str, Field(pattern=LOCALE_PATTERN)], LocaleContent]

    @model_validator(mode="after")
    def _approved_marketing(self) -> Template:
        if self.purpose == Purpose.MARKETING and self.approved_by is None:
            raise PydanticCustomError(
                "marketing_without_approval",
                "a marketing template needs approved_by: the counselor who approved it (R-CANSPAM-3)",
            )
        if "en" not in self.locales:
            raise PydanticCustomError(
                "no_en_locale", "every template needs an `en` locale: it is the last fallback"
            )
        return self
