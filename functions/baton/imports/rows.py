"""Reading an import body into rows: CSV with a header row, or JSON lines. Pure.

Each row keeps the line it starts on, so every refusal names the line of the file. A CSV cell
left empty is a field not given (it keeps its stored value); in JSON lines a key set to null
clears the field, as in `PUT /v1/contacts/{contact_id}`. `attributes` and `sales` are JSON
objects in a CSV cell.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from baton.data.documents import value_problems
from baton.imports.exceptions import InvalidRows, RowError, TooManyRows
from baton.imports.models import JSON_FIELDS, MAX_ROWS, ROW_FIELDS, ImportFormat

_ROW = "row"  # the field of an error about the whole row


@dataclass(frozen=True)
class RawRow:
    line: int  # 1-based line of the file the row starts on
    values: dict[str, Any]


def read_rows(body: str, fmt: ImportFormat, max_rows: int = MAX_ROWS) -> list[RawRow]:
    """Every row of the body, or `InvalidRows` (every malformed row) / `TooManyRows`."""
    rows: list[RawRow] = []
    errors: list[RowError] = []
    reader = _csv_rows(body) if fmt == ImportFormat.CSV else _jsonl_rows(body)
    for row in reader:
        if isinstance(row, RowError):
            errors.append(row)
            continue
        rows.append(row)
        if len(rows) > max_rows:
            raise TooManyRows(max_rows)
    if errors:
        raise InvalidRows(errors)
    return rows


class _NotJson(ValueError):
    """A text that is not one JSON value Baton can store; `kind` says how."""

    def __init__(self, message: str, kind: str = "json_invalid") -> None:
        super().__init__(message)
        self.kind = kind


def _refuse_constant(name: str) -> Any:
    raise _NotJson(f"{name} is not a JSON number")


def _json(text: str) -> Any:
    """One JSON value: NaN and Infinity refused (not JSON, not storable), nesting bounded."""
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise _NotJson(f"not JSON: {exc.msg} at column {exc.colno}") from exc
    except RecursionError as exc:
        raise _NotJson("nests too deep", "too_deep") from exc
    except _NotJson:
        raise
    except ValueError as exc:  # an integer longer than Python converts (4,300 digits)
        raise _NotJson(f"not JSON: {exc}") from exc


def _problems(number: int, document: dict[str, Any]) -> list[RowError]:
    """What makes a row unstorable (a lone surrogate, a number DynamoDB refuses, too deep)."""
    return [
        RowError(number, ".".join(str(part) for part in path) or _ROW, message, kind)
        for path, kind, message in value_problems(document)
    ]


def _jsonl_rows(body: str) -> Iterator[RawRow | RowError]:
    # Split on newlines only: JSON text may hold U+2028 and other breaks `splitlines` cuts at.
    for number, text in enumerate(body.split("\n"), start=1):
        line = text.rstrip("\r")
        if not line.strip():
            continue
        try:
            document = _json(line)
        except _NotJson as exc:
            yield RowError(number, _ROW, str(exc), exc.kind)
            continue
        if not isinstance(document, dict):
            yield RowError(number, _ROW, "each line is one JSON object: one contact", "not_an_object")
            continue
        unknown = sorted(set(document) - ROW_FIELDS)
        problems = [RowError(number, key, "not a field of an import row", "unknown_field") for key in unknown]
        problems += _problems(number, document)
        if problems:
            yield from problems
            continue
        yield RawRow(number, document)


def _csv_rows(body: str) -> Iterator[RawRow | RowError]:
    reader = csv.reader(io.StringIO(body.removeprefix("\ufeff"), newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            return
        columns = [name.strip() for name in header]
        problems = _header_problems(columns)
        if problems:
            yield from problems
            return
        while True:
            start = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            if not any(cell.strip() for cell in cells):
                continue  # a blank line
            yield _csv_row(start, columns, cells)
    except csv.Error as exc:
        yield RowError(reader.line_num or 1, _ROW, f"not CSV: {exc}", "csv_invalid")


def _header_problems(columns: list[str]) -> list[RowError]:
    problems = []
    seen: set[str] = set()
    for column in columns:
        if not column:
            problems.append(RowError(1, _ROW, "the header row names every column; one is empty", "header"))
        elif column in seen:
            problems.append(RowError(1, column, "this column is named twice", "header"))
        elif column not in ROW_FIELDS:
            problems.append(RowError(1, column, "not a field of an import row", "unknown_field"))
        seen.add(column)
    return problems


def _csv_row(start: int, columns: list[str], cells: list[str]) -> RawRow | RowError:
    if len(cells) > len(columns):
        return RowError(
            start, _ROW, f"{len(cells)} cells, but the header names {len(columns)} columns", "extra_cells"
        )
    values: dict[str, Any] = {}
    for column, cell in zip(columns, cells, strict=False):
        text = cell.strip()
        if not text:
            continue  # an empty cell: the field is not given
        if column in JSON_FIELDS:
            try:
                values[column] = _json(text)
            except _NotJson as exc:
                return RowError(start, column, f'a JSON object, e.g. {{"plan": "gold"}}: {exc}', exc.kind)
        else:
            values[column] = text
    problems = _problems(start, values)
    return problems[0] if problems else RawRow(start, values)
