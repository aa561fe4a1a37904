"""Input and output models of a trace: a sent message back to its journey, trigger and owners,
and a text back to the templates that could have printed it."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from baton.clock import Timestamp

# Baton's message ids and the providers' (SES, SNS, End User Messaging) are of these characters.
MessageId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:=+@-]{0,255}$")]
# A pasted SMS, subject or a part of an email's text; a whole email is at most a few thousand.
MAX_TEXT_CHARS = 10_000
# What a query string carries (`GET /v1/messages?text=`): a URL stays short.
MAX_QUERY_TEXT_CHARS = 2_000
MAX_MATCHES = 25
TextChannel = Literal["email", "sms", "voice", "whatsapp"]
TextPart = Literal["text", "subject"]


class TextSearch(BaseModel):
    """`POST /v1/messages/search`: the text a person saw, whole or a part of it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: Annotated[str, Field(min_length=1, max_length=MAX_TEXT_CHARS)]

    @field_validator("text")
    @classmethod
    def _has_words(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the text has no characters but spaces: paste what the message said")
        return value


class Approval(BaseModel):
    """Who approved the words. For content that needs legal approval, the approval on record in
    `journeys/approvals.yaml` of those very words (`approved`: by whom and when; `unapproved`:
    none on record; `changed`: approved, then edited). For content that needs none
    (`not_required`), the template's `approved_by`, if it names one."""

    approved_by: str | None = None
    approved_at: Timestamp | None = None
    status: Literal["approved", "changed", "unapproved", "not_required"] = "not_required"


class Owners(BaseModel):
    journey: str | None = None
    template: str | None = None


class Trigger(BaseModel):
    """What started the run for that contact: the event's type and the caller's event id (its
    idempotency key; `campaign:<run id>` for a campaign), and when."""

    event_type: str
    event_id: str
    started_at: Timestamp | None = None
    execution: str  # the run's first execution (a long run continues in others)


class Delivery(BaseModel):
    """One hand-over of the message to a provider (an at-least-once step may make two)."""

    provider: str | None = None
    provider_message_id: str | None = None
    sent_at: Timestamp


class MessageTrace(BaseModel):
    """`GET /v1/messages/{message_id}`: where a sent message came from and who answers for it."""

    message_id: str | None  # Baton's (None: a message Baton sent outside a journey step)
    contact_id: str
    channel: str | None = None
    purpose: str | None = None
    topic: str | None = None
    sent_at: Timestamp
    provider: str | None = None
    provider_message_id: str | None = None
    journey: str | None = None
    step: str | None = None
    execution: str | None = None
    variant: str | None = None
    template: str | None = None
    # `sha256:...` of the locale's content on the channel as sent (`baton.journeys.approvals`).
    content_version: str | None = None
    # Whether the catalog's template still says what was sent (None: not known).
    content_current: bool | None = None
    trigger: Trigger | None = None
    # The inventory entry that sent it (`journey/<journey>/<step>` or `builtin/<name>`) and who
    # answers for that entry (a journey's owner, or a built-in's from cdk.json `inventory`).
    inventory_id: str | None = None
    owner: str | None = None
    owners: Owners = Field(default_factory=Owners)
    approval: Approval = Field(default_factory=Approval)
    deliveries: list[Delivery] = Field(default_factory=list)


class TemplateUse(BaseModel):
    journey: str
    step: str


class TextMatch(BaseModel):
    """A template text that could have printed the text; `score`: characters of the text its
    literal words account for (the higher, the surer)."""

    template: str
    locale: str
    channel: TextChannel
    part: TextPart
    score: int
    owner: str
    purpose: str
    approval: Approval
    content_version: str
    used_by: list[TemplateUse]
    # The inventory entries that print it: each journey step sending the template, or the
    # built-in message whose words these are (`template` is then the built-in's file name).
    inventory_ids: list[str] = Field(default_factory=list)


class TextMatches(BaseModel):
    """`GET /v1/messages?text=` and `POST /v1/messages/search`: best match first."""

    matches: list[TextMatch]
