"""Free-form JSON that Baton stores as given (event `data`, contact `attributes`): the values a
DynamoDB item and a Step Functions input can hold, refused field by field before anything is written.

DynamoDB stores a number with at most 38 significant digits and a magnitude between 1e-130 and
9.99e125 (boto3's own `DYNAMODB_CONTEXT` says exactly that), nests documents at most 32 levels,
and encodes every string as UTF-8, which a lone surrogate (`"\\ud800"`) cannot be. A value
outside those limits would fail at the first write, after a journey had already started.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from decimal import Decimal, DecimalException
from typing import Annotated, Any

from boto3.dynamodb.types import DYNAMODB_CONTEXT
from pydantic import AfterValidator, JsonValue, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

# A free map sits inside a stored item (a timeline event's `detail`, a contact) and inside the
# execution input: 16 levels of its own keep the whole item well within DynamoDB's 32.
MAX_DEPTH = 16
MAX_KEY_LENGTH = 255

Path = tuple[str | int, ...]


def has_lone_surrogate(text: str) -> bool:
    """True when `text` holds half of a UTF-16 pair on its own: it has no UTF-8 form."""
    return any("\ud800" <= ch <= "\udfff" for ch in text)


_NUMBER_LIMITS = "numbers are stored with at most 38 significant digits, magnitude 1e-130 to 9.99e125"


def _number_problem(value: int | float) -> str | None:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN and Infinity cannot be stored"
    # Floats as `data.items` stores them: their shortest repr, so 0.1 stays 0.1.
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    try:
        # The context boto3 serializes with refuses what it would have to round (a 40-digit int)...
        DYNAMODB_CONTEXT.create_decimal(number)
    except DecimalException:
        return _NUMBER_LIMITS
    # ...but lets through tiny numbers DynamoDB itself refuses (below 1e-130).
    if number and not -130 <= number.adjusted() <= 125:
        return _NUMBER_LIMITS
    return None


def value_problems(value: Any, path: Path = (), depth: int = 1) -> Iterator[tuple[Path, str, str]]:
    """Every (path, error type, message) that makes `value` unstorable, the path into `value`."""
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, int | float):
        problem = _number_problem(value)
        if problem:
            yield path, "unstorable_number", problem
    elif isinstance(value, str):
        if has_lone_surrogate(value):
            yield path, "invalid_unicode", "the text holds a lone surrogate, which is not valid Unicode"
    elif depth > MAX_DEPTH and isinstance(value, dict | list):
        yield path, "too_deep", f"a value nests at most {MAX_DEPTH} levels"
    elif isinstance(value, dict):
        for key, item in value.items():
            if not key or len(key) > MAX_KEY_LENGTH or has_lone_surrogate(key):
                # Named as pydantic names a key (`<key>.[key]`), except a key that is not valid
                # Unicode: it cannot be shown back.
                where = (*path, "[key]") if has_lone_surrogate(key) else (*path, key, "[key]")
                yield where, "invalid_key", f"keys are 1 to {MAX_KEY_LENGTH} characters of valid Unicode"
                continue
            yield from value_problems(item, (*path, key), depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from value_problems(item, (*path, index), depth + 1)


def _storable(value: Any) -> Any:
    problems = [
        InitErrorDetails(type=PydanticCustomError(kind, message), loc=loc, input=None)
        for loc, kind, message in value_problems(value)
    ]
    if problems:
        # Raised inside a validator, the errors keep their own paths under the field's.
        raise ValidationError.from_exception_data("StoredJson", problems)
    return value


# One JSON value that DynamoDB and Step Functions can hold exactly as given.
StoredJson = Annotated[JsonValue, AfterValidator(_storable)]
# A free map (event `data`, contact `attributes`): named values, each storable.
FreeMap = Annotated[dict[str, JsonValue], AfterValidator(_storable)]
