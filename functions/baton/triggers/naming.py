"""Deterministic execution names (R-REL-2): the same event never starts twice.

A name is kept forever in Step Functions (erasure cannot remove it), so it is a keyed hash: a
plain hash of the contact id and idempotency key could be reversed by hashing guessed CRM ids.

The contact's generation is hashed too: it changes at erasure, so a contact created again with
the same id is a new person whose events start new executions, even with the keys the erased
one used (Step Functions refuses a name used in the last 90 days).
"""

from __future__ import annotations

import hashlib
import hmac
import json

# Step Functions: execution names are at most 80 characters of [A-Za-z0-9_-].
MAX_EXECUTION_NAME = 80
DIGEST_LENGTH = 40


def execution_name(
    journey_id: str, contact_id: str, idempotency_key: str, *, key: bytes, generation: str | None
) -> str:
    """`<journey>-<HMAC-SHA256(key, [journey, contact, idempotency key, generation])[:40]>`.

    The values are hashed as a JSON array, so `("a", "b|c", "d")` and `("a", "b", "c|d")`
    cannot collide. The journey id is cut to fit 80 characters; the digest covers all of it.
    `key` is `baton.secrets.execution_name_key`. A contact stored before contacts had a
    generation (None) keeps the names it had, so its repeated events still start nothing.
    """
    values = [journey_id, contact_id, idempotency_key] + ([generation] if generation is not None else [])
    material = json.dumps(values, ensure_ascii=False)
    digest = hmac.new(key, material.encode(), hashlib.sha256).hexdigest()[:DIGEST_LENGTH]
    prefix = journey_id[: MAX_EXECUTION_NAME - DIGEST_LENGTH - 1]
    return f"{prefix}-{digest}"


def continuation_name(name: str) -> str:
    """The name of the execution that continues `name`'s run in a new one (R-REL-1):
    `<name's journey part>-<SHA-256(name)[:40]>`. The same name always gives the same one, so a
    retried hand-over finds the execution it started; each link of a chain differs from the one
    before. No key is needed: `name` is a keyed hash already."""
    head, _, _ = name.rpartition("-")
    prefix = (head or name)[: MAX_EXECUTION_NAME - DIGEST_LENGTH - 1]
    digest = hashlib.sha256(name.encode()).hexdigest()[:DIGEST_LENGTH]
    return f"{prefix}-{digest}"
