"""Baton's two secrets, read through Powertools parameters (cached for `MAX_AGE_SECONDS`).

- the token signing key (BATON_TOKEN_SECRET_ARN): may be rotated, so the cache is short;
- the suppression salt (BATON_SUPPRESSION_SALT_SECRET_ARN): never rotated, or every
  suppression hash made before stops matching (R-GDPR-5).
"""

from __future__ import annotations

import hashlib
import hmac

from aws_lambda_powertools.utilities import parameters

from baton.settings import Settings, get_settings

MAX_AGE_SECONDS = 300
_WEBHOOK_KEY_LABEL = b"baton/webhook-signature/v1"
_EXECUTION_NAME_LABEL = b"baton/execution-name/v1"
_LINK_ADDRESS_LABEL = b"baton/link-address/v1"


class SecretMissing(Exception):
    """A secret exists but holds no usable string."""


def _read(name: str) -> bytes:
    value: object = parameters.get_secret(name, max_age=MAX_AGE_SECONDS)
    raw = value.encode() if isinstance(value, str) else value
    if not isinstance(raw, bytes) or not raw:
        raise SecretMissing(f"Secret {name!r} is empty or not a string.")
    return raw


def signing_key(settings: Settings | None = None) -> bytes:
    """The HMAC key that signs confirmation, preference and unsubscribe tokens."""
    return _read((settings or get_settings()).token_secret_arn)


def suppression_salt(settings: Settings | None = None) -> bytes:
    """The salt of suppression hashes (see `baton.suppression.hashing`)."""
    return _read((settings or get_settings()).suppression_salt_secret_arn)


def webhook_key(settings: Settings | None = None) -> bytes:
    """The HMAC key that signs webhook posts: the dedicated secret (BATON_WEBHOOK_SECRET_ARN),
    else a key derived from the token signing key, so the token key itself never leaves Baton
    (a receiver holding it could forge unsubscribe links). The derived key is the hex text of
    HMAC-SHA256(token key, "baton/webhook-signature/v1")."""
    settings = settings or get_settings()
    if settings.webhook_secret_arn:
        return _read(settings.webhook_secret_arn)
    return hmac.new(signing_key(settings), _WEBHOOK_KEY_LABEL, hashlib.sha256).hexdigest().encode()


def execution_name_key(settings: Settings | None = None) -> bytes:
    """The HMAC key of execution names (`baton.triggers.naming`): HMAC-SHA256(suppression salt,
    "baton/execution-name/v1"). Derived from the salt because that secret is never rotated: a
    new key would give a repeated event a new name and start its journey twice (R-REL-2)."""
    return _from_salt(_EXECUTION_NAME_LABEL, settings)


def link_address_key(settings: Settings | None = None) -> bytes:
    """The HMAC key of the address a link is bound to (`baton.tokens.binding`): HMAC-SHA256(
    suppression salt, "baton/link-address/v1"). From the salt, never rotated, so a link keeps
    its binding for its whole lifetime; a key of its own, so a link shows no suppression hash."""
    return _from_salt(_LINK_ADDRESS_LABEL, settings)


def _from_salt(label: bytes, settings: Settings | None) -> bytes:
    return hmac.new(suppression_salt(settings), label, hashlib.sha256).digest()


def reset() -> None:
    """Forget cached secrets and providers (tests and the local stack switch AWS endpoints)."""
    parameters.clear_caches()  # type: ignore[no-untyped-call]  # Powertools leaves it unannotated
