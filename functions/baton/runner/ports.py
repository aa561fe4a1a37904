"""What the journey tasks need from the rest of Baton, as small interfaces (the composition root
passes the real ones; unit tests pass fakes)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from baton.consent.vocabulary import Channel
from baton.contacts.models import Contact
from baton.journeys.models import Journey
from baton.journeys.templates import Template
from baton.timeline.models import TimelinePage


class CatalogView(Protocol):
    """The journeys and templates by id (`baton.journeys.catalog.Catalog`)."""

    @property
    def journeys(self) -> Mapping[str, Journey]: ...

    @property
    def templates(self) -> Mapping[str, Template]: ...


class ContactReader(Protocol):
    def get(self, contact_id: str) -> Contact:
        """The contact, read strongly consistent; raises `ContactNotFound`."""
        ...


class Timeline(Protocol):
    def record(self, contact_id: str, kind: str, detail: Mapping[str, object] | None = None) -> object: ...

    def page(self, contact_id: str, limit: int = ..., cursor: str | None = None) -> TimelinePage:
        """Events newest first, a page at a time."""
        ...


class LinkMaker(Protocol):
    """Signed links for the templates (`baton.subscriptions.links.Links`)."""

    def unsubscribe(self, contact_id: str, channel: Channel) -> str: ...

    def preferences(self, contact_id: str) -> str: ...


class Once(Protocol):
    """Runs `work` at most once per `key` to completion (R-REL-6): a second call with a key
    whose work completed returns the stored result without running `work`. Work that raises
    leaves nothing stored, so it runs again next time."""

    def run(self, key: Mapping[str, str], work: Callable[[], dict[str, Any]]) -> dict[str, Any]: ...
