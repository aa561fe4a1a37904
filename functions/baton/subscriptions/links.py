"""The signed links Baton puts in messages and pages: confirm, preferences, one-click unsubscribe.

A link names ids only (the contact, its generation, the pending request) and, for preference
and unsubscribe links, a keyed hash of the address the message went to: never the address, so
a forwarded or logged link gives away no personal data.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from baton.consent.vocabulary import Channel
from baton.settings import Settings
from baton.tokens.binding import address_binding
from baton.tokens.claims import Scope, TokenClaims
from baton.tokens.signer import sign


class Links:
    def __init__(
        self,
        settings: Settings,
        key: bytes,
        now: datetime,
        generation_of: Callable[[str], str | None] | None = None,
        *,
        address_key: bytes | None = None,
    ) -> None:
        """`generation_of(contact_id)`: the contact's generation, bound into every link so that
        links die with an erased contact (`ContactService.generation`). `address_key`
        (`baton.secrets.link_address_key`) binds a link to the address it is sent to; without
        it a preference link may only revoke."""
        self._base = settings.public_base_url.rstrip("/")
        self._key = key
        self._address_key = address_key
        self._now = now
        self._generation_of = generation_of
        self._confirm_ttl = timedelta(days=settings.confirm_ttl_days)
        # Unsubscribe links must keep working 30 days (R-CANSPAM-1) and 60 days (R-CASL-3).
        self._ttl = timedelta(days=settings.token_ttl_days)

    def confirm(self, contact_id: str, channel: Channel, request_id: str) -> str:
        """The double opt-in link of one pending request (its id is stored with the pending consent)."""
        return self._url("confirm", contact_id, Scope.CONFIRM, self._confirm_ttl, channel, request=request_id)

    def preferences(self, contact_id: str, channel: Channel, address: str | None) -> str:
        """The preference page as reached by a message to `address` on `channel`: it may grant
        for that address only (other channels only revoke or ask for their own confirmation)."""
        return self._url("preferences", contact_id, Scope.PREFERENCES, self._ttl, channel, address=address)

    def unsubscribe(self, contact_id: str, channel: Channel, address: str | None = None) -> str:
        return self._url("unsubscribe", contact_id, Scope.UNSUBSCRIBE, self._ttl, channel, address=address)

    def _url(
        self,
        route: str,
        contact_id: str,
        scope: Scope,
        ttl: timedelta,
        channel: Channel,
        *,
        request: str | None = None,
        address: str | None = None,
    ) -> str:
        binding = address_binding(self._address_key, channel, address) if self._address_key else None
        claims = TokenClaims(
            contact_id=contact_id,
            scope=scope,
            expires_at=self._now + ttl,
            generation=self._generation_of(contact_id) if self._generation_of else None,
            channel=channel,
            address=binding,
            request=request,
        )
        return f"{self._base}/v1/{route}/{sign(claims, self._key, self._now)}"
