"""Durations of the DSL: `30s`, `15m`, `4h`, `2d`, `1w` (contract)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import AfterValidator, Field, PlainSerializer

DURATION_PATTERN = r"^([1-9][0-9]{0,5})(s|m|h|d|w)$"
_PATTERN = re.compile(DURATION_PATTERN)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
# A Standard workflow lives at most a year (R-REL-1): no single wait may be longer.
MAX_SECONDS = 365 * 86_400


def parse_duration(text: str) -> timedelta:
    """`2d` -> 2 days. Raises ValueError naming the accepted forms."""
    match = _PATTERN.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(
            f"{text!r} is not a duration: use a whole number and s, m, h, d or w (e.g. 30s, 4h, 2d)"
        )
    seconds = int(match.group(1)) * _UNITS[match.group(2)]
    if seconds > MAX_SECONDS:
        raise ValueError(f"{text!r} is longer than a year, the longest a journey can run (R-REL-1)")
    return timedelta(seconds=seconds)


def _check(text: str) -> str:
    parse_duration(text)
    return text


# Kept as written (the YAML's own words in errors and the inventory); `parse_duration` reads it.
Duration = Annotated[
    str,
    Field(json_schema_extra={"pattern": DURATION_PATTERN}),  # for editors; `_check` words the error
    AfterValidator(_check),
    PlainSerializer(str, return_type=str),
]
