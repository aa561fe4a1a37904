"""`baton dnc`: load a do-not-contact list from a file into a running Baton (R-BR-1).

The file holds one number per line, or is a CSV whose first column is the number (a first row
with no digit in it is a header). The whole file is one load, through the same private route a
back office calls (`PUT /v1/do-not-contact/{list_name}`); a refused number is reported by its
line in the file, never echoed back.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from baton.do_not_contact.models import MAX_NUMBERS

_DIGIT = re.compile(r"\d")
_ENTRY = re.compile(r"^numbers\.(\d+)$")


class ListApi(Protocol):
    """What the loader needs of an HTTP client (`infra.http_client.LocalClient` has it)."""

    def put(self, path: str, **kwargs: Any) -> Any: ...

    def get(self, path: str, **kwargs: Any) -> Any: ...


@dataclass(frozen=True)
class FileNumber:
    line: int  # 1-based line of the file
    number: str


class ListFileError(ValueError):
    """The file cannot be loaded as it is; the message names the file (and line)."""


def read_numbers(path: Path) -> list[FileNumber]:
    """The numbers of a list file with their lines: blank lines and a header row skipped."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ListFileError(f"{path}: cannot be read as UTF-8 text ({exc.__class__.__name__})") from exc
    numbers: list[FileNumber] = []
    for line, row in enumerate(csv.reader(text.splitlines()), start=1):
        cell = row[0].strip() if row else ""
        if not cell:
            continue
        if not numbers and not _DIGIT.search(cell):
            continue  # a header (`telefone`, `number`)
        numbers.append(FileNumber(line, cell))
    if not numbers:
        raise ListFileError(f"{path}: holds no number")
    if len(numbers) > MAX_NUMBERS:
        raise ListFileError(f"{path}: holds {len(numbers)} numbers; one load takes at most {MAX_NUMBERS}")
    return numbers


def list_path(list_name: str) -> str:
    return f"/v1/do-not-contact/{list_name}"


def load_file(client: ListApi, list_name: str, path: Path, out: Callable[[str], None] = print) -> int:
    """Load the file as the list's new generation; 0 when it is in force, 1 otherwise."""
    try:
        numbers = read_numbers(path)
    except ListFileError as exc:
        out(str(exc))
        return 1
    response = client.put(list_path(list_name), json_body={"numbers": [entry.number for entry in numbers]})
    body = response.json()
    if response.status == 200:
        out(_status_line(body, f"loaded from {path}"))
        return 0
    error = body.get("error", {}) if isinstance(body, dict) else {}
    reported = False
    for detail in error.get("details", []):
        found = _ENTRY.match(str(detail.get("field", "")))
        if found and int(found.group(1)) < len(numbers):
            out(f"{path}:{numbers[int(found.group(1))].line}: {detail.get('message', '')}")
            reported = True
    if not reported:
        out(f"{path}: not loaded ({response.status} {error.get('code', '')}): {error.get('message', '')}")
    out("Nothing was changed: the list in force is as it was.")
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
