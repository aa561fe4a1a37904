"""Free maps (event data, contact attributes) hold only what DynamoDB and Step Functions store
exactly as given: each refusal names the path inside the map."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from baton.data.documents import MAX_DEPTH, FreeMap

_MAP: TypeAdapter[dict[str, Any]] = TypeAdapter(FreeMap)


def _refusal(value: dict[str, Any]) -> tuple[tuple[str | int, ...], str]:
    with pytest.raises(ValidationError) as caught:
        _MAP.validate_python(value)
    (error,) = caught.value.errors()
    return tuple(error["loc"]), error["type"]


def _nested(levels: int) -> dict[str, Any]:
    root: dict[str, Any] = {}
    level = root
    for _ in range(levels - 1):
        level["a"] = {}
        level = level["a"]
    return root


@pytest.mark.parametrize(
    "number",
    [
        0,
        -0.0,
        0.1,
        10**37,
        9 * 10**37 + 1,
        9.99e125,
        -9.99e125,
        1e-130,
        -1e-130,
        1.7976931348623157e125,
    ],
)
def test_a_number_dynamodb_stores_is_kept_as_given(number: float) -> None:
    assert _MAP.validate_python({"n": number}) == {"n": number}


@pytest.mark.parametrize(
    "number",
    [
        10**38 + 1,
        10**40,
        1e126,
        -1e126,
        1e308,
        1e-131,
        -1e-200,
        5e-324,
        float("nan"),
        float("inf"),
        -float("inf"),
    ],
)
def test_a_number_dynamodb_cannot_store_is_refused_at_its_path(number: float) -> None:
    assert _refusal({"order": {"lines": [1, {"total": number}]}}) == (
        ("order", "lines", 1, "total"),
        "unstorable_number",
    )


def test_a_lone_surrogate_in_a_value_is_refused_at_its_path() -> None:
    assert _refusal({"tags": ["ok", "broken \ud83d"]}) == (("tags", 1), "invalid_unicode")


def test_a_well_formed_emoji_is_kept() -> None:
    assert _MAP.validate_python({"note": "thanks \U0001f600"}) == {"note": "thanks \U0001f600"}


@pytest.mark.parametrize(("key", "where"), [("\udc00", ("a", "[key]")), ("", ("a", "", "[key]"))])
def test_a_key_that_is_empty_or_not_valid_unicode_is_refused(key: str, where: tuple[str, ...]) -> None:
    assert _refusal({"a": {key: 1}}) == (where, "invalid_key")


def test_a_map_nested_as_deep_as_allowed_is_kept_and_one_level_more_is_refused() -> None:
    assert _MAP.validate_python(_nested(MAX_DEPTH)) == _nested(MAX_DEPTH)
    loc, kind = _refusal(_nested(MAX_DEPTH + 1))
    assert kind == "too_deep"
    assert loc == ("a",) * MAX_DEPTH
