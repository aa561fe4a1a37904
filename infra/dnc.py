"""`baton dnc`: load a do-not-contact list from a file into a running Baton (R-BR-1).

The file holds one number per line, or is a CSV whose first column is the number (a first row
with no digit in it is a header). The file is one load, read a part at a time (never whole in
memory) and sent through the same private routes a back office calls: begin a load (`POST
/v1/do-not-contact/{list_name}/loads`), send each part of at most MAX_NUMBERS numbers, then
commit it with the part and number counts, which puts it in force. A refused number is
reported by its line in the file, never echoed back, and the load is then never committed, so
the list in force is as it was.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import chain, islice
from pathlib import Path
from typing import Any, Protocol

from baton.do_not_contact.models import MAX_NUMBERS

_DIGIT = re.compile(r"\d")
_ENTRY = re.compile(r"^numbers\.(\d+)$")
_UNCHANGED = "Nothing was changed: the list in force is as it was."


class ListApi(Protocol):
    """What the loader needs of an HTTP client (`infra.http_client.LocalClient` has it)."""

    def put(self, path: str, **kwargs: Any) -> Any: ...

    def post(self, path: str, **kwargs: Any) -> Any: ...

    def get(self, path: str, **kwargs: Any) -> Any: ...


@dataclass(frozen=True)
class FileNumber:
    line: int  # 1-based line of the file
    number: str


class ListFileError(ValueError):
    """The file cannot be loaded as it is; the message names the file (and line)."""


def read_numbers(path: Path) -> Iterator[FileNumber]:
    """The numbers of a list file with their lines, read as they are needed: blank lines and a
    header row skipped. Raises ListFileError (when reached) if the file is not UTF-8 text."""
    seen = False
    try:
        with path.open(encoding="utf-8-sig", newline="") as text:
            rows = csv.reader(text)
            for row in rows:
                cell = row[0].strip() if row else ""
                if not cell or (not seen and not _DIGIT.search(cell)):
                    continue  # a blank line, or a header (`telefone`, `number`)
                seen = True
                yield FileNumber(rows.line_num, cell)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ListFileError(f"{path}: cannot be read as UTF-8 text ({exc.__class__.__name__})") from exc


def parts_of(numbers: Iterator[FileNumber], size: int = MAX_NUMBERS) -> Iterator[list[FileNumber]]:
    """The numbers a part at a time: only one part is ever held."""
    while part := list(islice(numbers, size)):
        yield part


def list_path(list_name: str) -> str:
    return f"/v1/do-not-contact/{list_name}"


def load_file(client: ListApi, list_name: str, path: Path, out: Callable[[str], None] = print) -> int:
    """Load the file as the list's new generation, a part at a time; 0 when it is in force, 1
    otherwise (the list in force then unchanged)."""
    parts = parts_of(read_numbers(path))
    try:
        first = next(parts, None)
    except ListFileError as exc:
        out(str(exc))
        return 1
    if first is None:
        out(f"{path}: holds no number")
        return 1
    begun = client.post(f"{list_path(list_name)}/loads", json_body={})
    if begun.status != 201:
        return _refused(path, begun, [], out)
    load_path = f"{list_path(list_name)}/loads/{begun.json()['load_id']}"
    number = sent = 0
    try:
        for number, part in enumerate(chain([first], parts), start=1):
            numbers = [entry.number for entry in part]
            stored = client.put(f"{load_path}/parts/{number}", json_body={"numbers": numbers})
            if stored.status != 200:
                return _refused(path, stored, part, out)
            sent += len(part)
            out(f"{path}: part {number} stored, {sent} numbers sent")
    except ListFileError as exc:
        out(str(exc))
        out(_UNCHANGED)
        return 1
    committed = client.post(f"{load_path}/commit", json_body={"parts": number, "numbers": sent})
    if committed.status != 200:
        return _refused(path, committed, [], out)
    out(_status_line(committed.json(), f"loaded from {path} in {number} part(s)"))
    return 0


def _refused(path: Path, response: Any, part: list[FileNumber], out: Callable[[str], None]) -> int:
    """Say why a request was refused: each refused number by its line in the file."""
    body = response.json()
    error = body.get("error", {}) if isinstance(body, dict) else {}
    reported = False
    for detail in error.get("details", []):
        found = _ENTRY.match(str(detail.get("field", "")))
        if found and int(found.group(1)) < len(part):
            out(f"{path}:{part[int(found.group(1))].line}: {detail.get('message', '')}")
            reported = True
    if not reported:
        out(f"{path}: not loaded ({response.status} {error.get('code', '')}): {error.get('message', '')}")
    out(_UNCHANGED)
    return 1


def show_status(client: ListApi, list_name: str, out: Callable[[str], None] = print) -> int:
    response = client.get(list_path(list_name))
    body = response.json()
    if response.status == 200:
        out(_status_line(body, "in force"))
        return 0
    out(f"{list_name}: {body.get('error', {}).get('message', response.status)}")
    return 1


def _status_line(body: dict[str, Any], what: str) -> str:
    return (
        f"{body['list']}: {body['count']} numbers {what}, generation {body['generation']},"
        f" loaded at {body['loaded_at']}"
    )
