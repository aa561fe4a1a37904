"""The signed links Baton puts in messages and pages: confirm, preferences, one-click unsubscribe.

A link names ids only (the contact, its generation, the pending request): never the address it
was sent to, so a forwarded or logged link gives away no personal data.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from baton.consent.vocabulary import Channel
from baton.settings import Settings
from baton.tokens.claims import Scope, TokenClaims
from baton.tokens.signer import sign


class Links:
    def __init__(
        self,
        settings: Settings,
        key: bytes,
        now: datetime,
        generation_of: Callable[[str], str | None] | None = None,
    ) -> None:
        """`generation_of(contact_id)`: the contact's generation, bound into every link so that
        links die with an erased contact (`ContactService.generation`)."""
        self._base = settings.public_base_url.rstrip("/")
        self._key = key
        self._now = now
        self._generation_of = generation_of
        self._confirm_ttl = timedelta(days=settings.confirm_ttl_days)
        # Unsubscribe links must keep working 30 days (R-CANSPAM-1) and 60 days (R-CASL-3).
        self._ttl = timedelta(days=settings.token_ttl_days)

    def confirm(self, contact_id: str, channel: Channel, request_id: str) -> str:
        """The double opt-in link of one pending request (its id is stored with the pending consent)."""
        return self._url("confirm", contact_id, Scope.CONFIRM, self._confirm_ttl, channel, request_id)

    def preferences(self, contact_id: str) -> str:
        return self._url("preferences", contact_id, Scope.PREFERENCES, self._ttl)

    def unsubscribe(self, contact_id: str, channel: Channel) -> str:
        return self._url("unsubscribe", contact_id, Scope.UNSUBSCRIBE, self._ttl, channel)

    def _url(
        self,
        route: str,
        contact_id: str,
        scope: Scope,
        ttl: timedelta,
        channel: Channel | None = None,
        request_id: str | None = None,
    ) -> str:
        claims = TokenClaims(
            contact_id=contact_id,
            scope=scope,
            expires_at=self._now + ttl,
            generation=self._generation_of(contact_id) if self._generation_of else None,
            channel=channel,
            request=request_id,
        )
        return f"{self._base}/v1/{route}/{sign(claims, self._key, self._now)}"
