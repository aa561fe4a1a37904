"""The signed links Baton puts in messages and pages: confirm, preferences, one-click unsubscribe."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from baton.consent.vocabulary import Channel
from baton.settings import Settings
from baton.tokens.claims import Scope, TokenClaims
from baton.tokens.signer import sign


class Links:
    def __init__(self, settings: Settings, key: bytes, now: datetime) -> None:
        self._base = settings.public_base_url.rstrip("/")
        self._key = key
        self._now = now
        self._confirm_ttl = timedelta(days=settings.confirm_ttl_days)
        # Unsubscribe links must keep working 30 days (R-CANSPAM-1) and 60 days (R-CASL-3).
        self._ttl = timedelta(days=settings.token_ttl_days)

    def _url(self, route: str, claims: TokenClaims) -> str:
        return f"{self._base}/v1/{route}/{sign(claims, self._key, self._now)}"

    def confirm(self, contact_id: str, channel: Channel, address: str, topics: Iterable[str]) -> str:
        claims = TokenClaims(
            contact_id=contact_id,
            scope=Scope.CONFIRM,
            expires_at=self._now + self._confirm_ttl,
            channel=channel,
            topics=tuple(sorted(topics)),
            address=address,
        )
        return self._url("confirm", claims)

    def preferences(self, contact_id: str) -> str:
        claims = TokenClaims(contact_id=contact_id, scope=Scope.PREFERENCES, expires_at=self._now + self._ttl)
        return self._url("preferences", claims)

    def unsubscribe(self, contact_id: str, channel: Channel, address: str) -> str:
        claims = TokenClaims(
            contact_id=contact_id,
            scope=Scope.UNSUBSCRIBE,
            expires_at=self._now + self._ttl,
            channel=channel,
            address=address,
        )
        return self._url("unsubscribe", claims)
