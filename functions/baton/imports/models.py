"""What an import file holds, row by row, and what an import answers.

A row is a flat record, the same in both formats: the contact fields of `ContactInput`, the
consent it carries (`consent_channels` x `consent_topics`, one status and basis) and the proof
of that consent, in the fields of `ConsentProof` (`consent_text` or `text_version`, `actor`,
`obtained_at`, ...). One set of proof covers every channel and topic the row names: the words
the person was shown when they agreed to all of them.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from baton.consent.models import ConsentProof, Topic
from baton.consent.vocabulary import Basis, Channel, ConsentStatus
from baton.contacts.models import ContactInput

# One request: 5,000 rows keep its reads and writes well inside API Gateway's 29 seconds.
MAX_ROWS: Final = 5_000
# Consents one request records (a row's channels times its topics): each is recorded as the
# consent route records it, about nine reads and writes, so 250 stay well inside the function's
# 15 seconds next to 5,000 rows.
MAX_CONSENTS: Final = 250
# A Lambda request event holds at most 6 MB, and the body in it is a JSON string: escaping can
# double a body's size, so 3 MB of file (with the event around it) always fits.
MAX_IMPORT_BYTES: Final = 3_000_000


class ImportFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"


MEDIA_TYPES: Final = {"text/csv": ImportFormat.CSV, "application/x-ndjson": ImportFormat.JSONL}

CONTACT_FIELDS: Final = frozenset(ContactInput.model_fields)
PROOF_FIELDS: Final = frozenset(ConsentProof.model_fields)
# Free maps: a JSON object in a CSV cell.
JSON_FIELDS: Final = frozenset({"attributes", "sales"})

_SEPARATORS = re.compile(r"[\s,;|]+")


def words(value: Any) -> Any:
    """`email sms`, `email,sms`, `email|sms`: a CSV cell (or a JSON string) naming several."""
    if isinstance(value, str):
        return [word for word in _SEPARATORS.split(value) if word]
    return value


class RowConsent(BaseModel):
    """The consent a row carries: each channel named for each topic named, with one status."""

    model_config = ConfigDict(extra="forbid")

    consent_channels: Annotated[list[Channel], BeforeValidator(words), Field(min_length=1, max_length=5)]
    consent_topics: Annotated[list[Topic], BeforeValidator(words), Field(min_length=1, max_length=20)]
    consent_status: Literal[ConsentStatus.GRANTED, ConsentStatus.REVOKED] = ConsentStatus.GRANTED
    consent_basis: Basis = Basis.EXPRESS


CONSENT_FIELDS: Final = frozenset(RowConsent.model_fields)
ROW_FIELDS: Final = CONTACT_FIELDS | CONSENT_FIELDS | PROOF_FIELDS


class ImportResult(BaseModel):
    """The answer: how many rows, and what each did. A file imported again: all `unchanged`."""

    rows: int
    created: int
    updated: int
    unchanged: int
    consents_recorded: int


def consent_count(values: dict[str, Any]) -> int:
    """How many consents a row's values ask to record: its channels times its topics."""
    channels, topics = words(values.get("consent_channels")), words(values.get("consent_topics"))
    if not isinstance(channels, list) or not isinstance(topics, list):
        return 0
    return len(set(map(str, channels))) * len(set(map(str, topics)))
