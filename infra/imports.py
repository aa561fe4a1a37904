"""`baton import FILE`: import a file of contacts into a running Baton through `POST
/v1/contacts:import`, in parts of at most MAX_ROWS rows, MAX_IMPORT_BYTES bytes and
MAX_CONSENTS consents.

Each part is imported whole or not at all. A CSV part repeats the header row; a row never
splits across parts (a quoted cell may span lines). Progress (rows done of the total, rows per
second) updates in place on a terminal and is a plain line per part otherwise. A refused part
is reported value by value, as `FILE:LINE: FIELD: message` with the line of the file, and the
import stops there: nothing of that part is written, the parts before it are.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TextIO

from baton.imports.models import MAX_CONSENTS, MAX_IMPORT_BYTES, MAX_ROWS, ImportFormat, consent_count

IMPORT_PATH = "/v1/contacts:import"
CONTENT_TYPES = {ImportFormat.CSV: "text/csv; charset=utf-8", ImportFormat.JSONL: "application/x-ndjson"}
_SUFFIXES = {".csv": ImportFormat.CSV, ".jsonl": ImportFormat.JSONL, ".ndjson": ImportFormat.JSONL}
_COUNTS = ("created", "updated", "unchanged", "consents_recorded")


class ImportApi(Protocol):
    """What the importer needs of an HTTP client (`infra.http_client.LocalClient` has it)."""

    def post(self, path: str, **kwargs: Any) -> Any: ...


class ImportFileError(ValueError):
    """The file cannot be sent as it is; the message names it."""


@dataclass
class Part:
    """Rows of the file sent in one request, and the line of the file each line of it was."""

    text: list[str] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)  # part line n (1-based) was file line lines[n-1]
    rows: int = 0
    size: int = 0
    consents: int = 0

    def add(self, lines: list[str], first_line: int) -> None:
        for offset, line in enumerate(lines):
            self.lines.append(first_line + offset)
            self.text.append(line if line.endswith(("\n", "\r")) else line + "\n")
            self.size += len(line.encode()) + 1

    def body(self) -> bytes:
        return "".join(self.text).encode()

    def file_line(self, line: int) -> int | None:
        return self.lines[line - 1] if 1 <= line <= len(self.lines) else None


def file_format(path: Path, given: str | None) -> ImportFormat:
    if given:
        return ImportFormat(given)
    found = _SUFFIXES.get(path.suffix.lower())
    if found is None:
        raise ImportFileError(f"{path}: say --format csv or --format jsonl (the name ends in neither)")
    return found


def parts_of(
    text: str,
    fmt: ImportFormat,
    max_rows: int = MAX_ROWS,
    max_bytes: int = MAX_IMPORT_BYTES,
    max_consents: int = MAX_CONSENTS,
) -> list[Part]:
    """The file cut into parts of at most `max_rows` rows, `max_bytes` bytes and `max_consents`
    consents (a row's channels times its topics)."""
    records = _csv_records(text) if fmt == ImportFormat.CSV else _jsonl_records(text)
    header: tuple[int, list[str]] | None = next(records, None) if fmt == ImportFormat.CSV else None
    columns = next(csv.reader(header[1]), []) if header is not None else []
    parts: list[Part] = []
    part = _new_part(header)
    for line, record in records:
        size = sum(len(piece.encode()) + 1 for piece in record)
        consents = consent_count(_values(record, columns))
        full = (
            part.rows >= max_rows or part.size + size > max_bytes or part.consents + consents > max_consents
        )
        if part.rows and full:
            parts.append(part)
            part = _new_part(header)
        part.add(record, line)
        part.rows += 1
        part.consents += consents
    if part.rows:
        parts.append(part)
    return parts


def _values(record: list[str], columns: list[str]) -> dict[str, Any]:
    """A record's values by field, as far as counting its consents needs; {} when unreadable
    (the route then names what is wrong with it)."""
    if not columns:
        try:
            document = json.loads(record[0])
        except ValueError:
            return {}
        return document if isinstance(document, dict) else {}
    try:
        cells = next(csv.reader(record), [])
    except csv.Error:
        return {}
    return {column.strip(): cell for column, cell in zip(columns, cells, strict=False) if cell.strip()}


def _new_part(header: tuple[int, list[str]] | None) -> Part:
    part = Part()
    if header is not None:
        part.add(header[1], header[0])
    return part


def _jsonl_records(text: str) -> Iterator[tuple[int, list[str]]]:
    # Lines as the route counts them: split at newlines only.
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            yield number, [line.rstrip("\r")]


def _csv_records(text: str) -> Iterator[tuple[int, list[str]]]:
    """Each CSV record as its lines (a quoted cell may hold line breaks) and its first line,
    lines counted as the route's CSV reader counts them."""
    lines = list(io.StringIO(text, newline=""))
    reader = csv.reader(iter(lines), strict=True)
    try:
        while True:
            start = reader.line_num
            cells = next(reader, None)
            if cells is None:
                return
            if start == 0 or any(cell.strip() for cell in cells):
                yield start + 1, lines[start : reader.line_num]
    except csv.Error as exc:
        raise ImportFileError(f"line {reader.line_num}: not CSV ({exc})") from exc


class Progress:
    """Rows done of the total and rows per second: in place on a terminal, else a line per part."""

    def __init__(self, total: int, stream: TextIO | None, out: Callable[[str], None]) -> None:
        self.total = total
        self.stream = stream if stream is not None and stream.isatty() else None
        self.out = out
        self.began = time.perf_counter()

    def update(self, done: int, part: int, parts: int) -> None:
        seconds = max(time.perf_counter() - self.began, 1e-9)
        line = f"{done:,} / {self.total:,} rows ({done / seconds:,.0f} rows/s), part {part} of {parts}"
        if self.stream is not None:
            self.stream.write(f"\r{line}")
            self.stream.flush()
        else:
            self.out(line)

    def finish(self) -> None:
        if self.stream is not None:
            self.stream.write("\n")
            self.stream.flush()


def import_file(
    client: ImportApi,
    path: Path,
    fmt: str | None = None,
    out: Callable[[str], None] = print,
    terminal: TextIO | None = None,
    max_rows: int = MAX_ROWS,
    max_bytes: int = MAX_IMPORT_BYTES,
) -> int:
    """Import the file part by part; 0 when every part was imported, 1 otherwise."""
    try:
        kind = file_format(path, fmt)
        text = path.read_text(encoding="utf-8-sig")
        parts = parts_of(text, kind, max_rows, max_bytes)
    except (OSError, UnicodeDecodeError) as exc:
        out(f"{path}: cannot be read as UTF-8 text ({exc.__class__.__name__})")
        return 1
    except ImportFileError as exc:
        out(f"{path}: {exc}" if not str(exc).startswith(str(path)) else str(exc))
        return 1
    total = sum(part.rows for part in parts)
    if not total:
        out(f"{path}: holds no row to import")
        return 1
    progress = Progress(total, terminal, out)
    counts = dict.fromkeys(_COUNTS, 0)
    done = 0
    for number, part in enumerate(parts, start=1):
        answer = client.post(IMPORT_PATH, data=part.body(), headers={"Content-Type": CONTENT_TYPES[kind]})
        if answer.status != 200:
            progress.finish()
            _refused(path, answer, part, number, done, out)
            return 1
        result = answer.json()
        for name in _COUNTS:
            counts[name] += int(result.get(name, 0))
        done += part.rows
        progress.update(done, number, len(parts))
    progress.finish()
    out(
        f"{path}: {done:,} rows imported: {counts['created']:,} created, {counts['updated']:,} updated,"
        f" {counts['unchanged']:,} unchanged; {counts['consents_recorded']:,} consents recorded"
    )
    return 0


def _refused(path: Path, answer: Any, part: Part, number: int, done: int, out: Callable[[str], None]) -> None:
    """Each refused value by its line in the file and its field, in plain words."""
    try:
        error = answer.json().get("error", {})
    except ValueError:
        error = {}
    details = [detail for detail in error.get("details", []) if isinstance(detail, dict)]
    located = [detail for detail in details if isinstance(detail.get("line"), int)]
    for detail in located:
        line = part.file_line(detail["line"])
        where = f"{path}:{line}" if line is not None else str(path)
        out(f"{where}: {detail.get('field', '')}: {detail.get('message', '')}")
    if not located:
        code, message = error.get("code", ""), error.get("message", "")
        out(f"{path}: part {number} refused ({answer.status} {code}): {message}")
    first, last = part.lines[1 if len(part.lines) > part.rows else 0], part.lines[-1]
    out(
        f"Nothing of part {number} (lines {first}-{last}) was written"
        + (f"; the {done:,} rows before it were imported." if done else ".")
    )
