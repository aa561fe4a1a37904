"""Timeline cursors are opaque, url-safe, and refused clearly when not ours or not this contact's."""

from __future__ import annotations

import base64
import json

import pytest

from baton.timeline.cursor import decode_cursor, encode_cursor
from baton.timeline.exceptions import InvalidCursor

KEY = {"contact_id": "crm-1", "sk": "2026-05-01T12:00:00.000000Z#01KQHPHXG08BN6WM5D093C90HV"}


def _raw(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()


def test_a_cursor_round_trips_to_the_same_position() -> None:
    assert decode_cursor(encode_cursor(KEY), "crm-1") == KEY


def test_a_cursor_is_url_safe_without_padding() -> None:
    cursor = encode_cursor({"contact_id": "a/b+c?", "sk": "~~~>>>???"})

    assert all(ch.isalnum() or ch in "-_" for ch in cursor)


def test_given_a_cursor_of_another_contact_when_decoded_then_refused() -> None:
    with pytest.raises(InvalidCursor, match="another contact"):
        decode_cursor(encode_cursor(KEY), "crm-2")


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not base64 at all!!",
        "%%%%",
        "x" * 2000,
        _raw("a string"),
        _raw(["contact_id", "sk"]),
        _raw({"contact_id": "crm-1"}),
        _raw({"contact_id": "crm-1", "sk": "s", "extra": "x"}),
        _raw({"contact_id": "crm-1", "sk": 5}),
        _raw({"contact_id": "crm-1", "sk": ""}),
        base64.urlsafe_b64encode(b"\xff\xfe\x00").decode(),
    ],
)
def test_given_a_cursor_we_did_not_make_when_decoded_then_invalid_cursor(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor, "crm-1")
