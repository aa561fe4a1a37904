"""What the journey tasks need from the rest of Baton, as small interfaces (the composition root
passes the real ones; unit tests pass fakes)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from baton.consent.vocabulary import Channel
from baton.contacts.models import Contact
from baton.journeys.approvals import ContentApproval
from baton.journeys.models import Journey
from baton.journeys.templates import Template
from baton.timeline.models import TimelinePage
from baton.triggers.subjects import Subject


class CatalogView(Protocol):
    """The journeys and templates by id (`baton.journeys.catalog.Catalog`)."""

    @property
    def journeys(self) -> Mapping[str, Journey]: ...

    @property
    def templates(self) -> Mapping[str, Template]: ...

    def approval(self, template_id: str, locale: str, channel: str) -> ContentApproval | None:
        """Whether that content is the content approved; None: the template needs no approval."""
        ...

    def content_hash(self, template_id: str, locale: str, channel: str) -> str:
        """The hash of that content (`baton.journeys.approvals.content_hash`)."""
        ...


class ContactReader(Protocol):
    def get(self, contact_id: str) -> Contact:
        """The contact, read strongly consistent; raises `ContactNotFound`."""
        ...


class GenerationReader(Protocol):
    def generation(self, contact_id: str) -> str | None:
        """The contact's generation (a nonce made with it); raises `ContactNotFound`."""
        ...


class Timeline(Protocol):
    def record(
        self,
        contact_id: str,
        kind: str,
        detail: Mapping[str, object] | None = None,
        at: datetime | None = None,
        event_id: str | None = None,
    ) -> object: ...

    def page(self, contact_id: str, limit: int = ..., cursor: str | None = None) -> TimelinePage:
        """Events newest first, a page at a time."""
        ...


class LinkMaker(Protocol):
    """Signed links for the templates (`baton.subscriptions.links.Links`)."""

    def unsubscribe(self, contact_id: str, channel: Channel) -> str: ...

    def preferences(self, contact_id: str, channel: Channel, address: str | None) -> str: ...


class SubjectReader(Protocol):
    """Whom an execution is about (`baton.triggers.subjects`): None once the contact is erased."""

    def get(self, execution_name: str) -> Subject | None: ...
