"""Deterministic execution names (R-REL-2, PLAN3 decision 4): the same event never starts twice."""

from __future__ import annotations

import hashlib
import json

# Step Functions: execution names are at most 80 characters of [A-Za-z0-9_-].
MAX_EXECUTION_NAME = 80
DIGEST_LENGTH = 40


def execution_name(journey_id: str, contact_id: str, idempotency_key: str) -> str:
    """`<journey>-<sha256(journey, contact, key)[:40]>`.

    The three values are hashed as a JSON array, so `("a", "b|c", "d")` and `("a", "b", "c|d")`
    cannot collide. The journey id is cut to fit 80 characters; the digest covers all of it.
    """
    material = json.dumps([journey_id, contact_id, idempotency_key], ensure_ascii=False)
    digest = hashlib.sha256(material.encode()).hexdigest()[:DIGEST_LENGTH]
    prefix = journey_id[: MAX_EXECUTION_NAME - DIGEST_LENGTH - 1]
    return f"{prefix}-{digest}"
