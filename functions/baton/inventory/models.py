"""The inventory's configuration (cdk.json `inventory`) and what its routes answer."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field
from pydantic.alias_generators import to_camel

from baton.messages.builtins import BuiltIn


class _Config(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)


class BuiltInOwnership(_Config):
    """Who answers for one built-in message, and when it is next reviewed."""

    owner: EmailStr | None = None  # unset: `fallbackOwner`
    review_by: date | None = None  # unset: no review on record, so it is listed as overdue


class InventoryConfig(_Config):
    """cdk.json `inventory`. A built-in message has no YAML file to name its owner and review
    date: they are set here, per inventory id, and `fallbackOwner` answers for the rest."""

    fallback_owner: EmailStr | None = None  # unset: the deployment's sender address
    # Set: an owner outside this list is unknown (the entry is orphaned). Empty: not checked.
    known_owners: list[EmailStr] = Field(default_factory=list)
    # The share of a message's sends that failed in the last 7 days above which it is failing.
    failing_rate: Annotated[float, Field(gt=0, le=1)] = 0.05
    built_in: dict[BuiltIn, BuiltInOwnership] = Field(default_factory=dict)

    def fallback(self, sender: str) -> str:
        """Who answers for what has no owner of its own: `fallbackOwner`, else the deployment's
        sender address (`sender`)."""
        return self.fallback_owner or sender

    def owner_of(self, message: BuiltIn, sender: str) -> str:
        """Who answers for a built-in message: its own owner, else the fallback owner."""
        ownership = self.built_in.get(message)
        return (ownership.owner if ownership else None) or self.fallback(sender)


class Status(StrEnum):
    ACTIVE = "active"  # sent within the last 90 days
    OVERDUE = "overdue"  # its review date has passed (or a built-in has none on record)
    NEVER_SENT = "never_sent"
    SILENT = "silent"  # sent once, nothing for 90 days
    FAILING = "failing"  # more than `failingRate` of the last 7 days' sends failed
    ORPHANED = "orphaned"  # the owner's address bounces or complained, or is not a known owner
    UNAPPROVED = "unapproved"  # content that needs legal approval has none for its words as they are
    CLOSED = "closed"  # a marketing journey overdue past its grace period: admits no new contact


# What to review or retire (`?stale=true`): everything but a plain `active`.
STALE = frozenset(Status) - {Status.ACTIVE}


class _Answer(BaseModel):
    model_config = ConfigDict(frozen=True)


ApprovalStatus = Literal["approved", "changed", "unapproved", "not_required"]


class ContentApproval(_Answer):
    """One locale and channel of a template: the hash of its words now and the approval on
    record for them (`journeys/approvals.yaml`)."""

    locale: str
    channel: str
    content: str  # `sha256:...` of the words as the catalog has them
    status: Literal["approved", "changed", "unapproved"]
    approved_by: EmailStr | None = None
    approved_at: datetime | None = None


class Approval(_Answer):
    """Who approved the content. `source: approvals`: legal's approval bound to the content
    (`journeys/approvals.yaml`), `status` the worst of its locales and channels, `approved_by`
    and `approved_at` the newest approval; `template`: content that needs no approval, with the
    template's `approved_by`; `none`: nothing on record."""

    approved_by: EmailStr | None = None
    approved_at: datetime | None = None
    source: Literal["approvals", "template", "none"] = "none"
    status: ApprovalStatus = "not_required"
    contents: list[ContentApproval] = Field(default_factory=list)


class Volume(_Answer):
    sent: int = 0
    delivered: int = 0
    failed: int = 0  # not taken by the provider, bounced or undelivered


class Entry(_Answer):
    id: str  # `journey/<journey>/<step>` or `builtin/<name>`
    kind: Literal["journey_step", "built_in"]
    owner: EmailStr
    purpose: str
    description: str | None = None
    topic: str | None = None
    trigger: str  # what makes it go out
    journey: str | None = None
    step: str | None = None
    channels: list[str]
    templates: list[str]
    locales: list[str]
    review_by: date | None
    approval: Approval
    last_sent: date | None  # the newest UTC day with a send counted
    last_7_days: Volume
    last_30_days: Volume
    statuses: list[Status]


class InventoryList(_Answer):
    items: list[Entry]


class TemplateUse(_Answer):
    journey: str
    step: str


class TemplateInfo(_Answer):
    id: str
    description: str | None
    owner: EmailStr
    purpose: str
    review_by: date | None
    locales: list[str]
    channels: list[str]
    approval: Approval
    used_by: list[TemplateUse]


class TemplateList(_Answer):
    items: list[TemplateInfo]
