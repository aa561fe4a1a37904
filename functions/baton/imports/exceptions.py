"""Errors of the import package; each is answered before anything is written."""

from __future__ import annotations

from dataclasses import dataclass

# Details a refusal lists: enough to fix a file, not a second copy of it.
MAX_REPORTED = 100


@dataclass(frozen=True)
class RowError:
    """One refused value: the line of the file, the column (or key) and why."""

    line: int
    field: str
    message: str
    type: str = "invalid"


class ContactImportError(Exception):
    """Base of every import error."""


class InvalidRows(ContactImportError, ValueError):
    """Some rows cannot be imported as they are: nothing was written."""

    def __init__(self, errors: list[RowError]) -> None:
        ordered = sorted(errors, key=lambda error: error.line)
        shown = ", ".join(f"line {error.line} {error.field}" for error in ordered[:5])
        more = f" and {len(ordered) - 5} more" if len(ordered) > 5 else ""
        super().__init__(f"{len(ordered)} value(s) refused: {shown}{more}. Nothing was imported.")
        self.errors = ordered

    @property
    def reported(self) -> list[RowError]:
        return self.errors[:MAX_REPORTED]


class TooManyRows(ContactImportError):
    """More rows than one request takes: the file goes in parts."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"The file has more than {limit} rows; the limit is {limit} rows per request: send it in parts."
        )
        self.limit = limit


class TooManyConsents(ContactImportError):
    """More consents than one request records: the file goes in smaller parts."""

    def __init__(self, count: int, limit: int) -> None:
        super().__init__(
            f"The file carries {count} consents (channels times topics of each row); the limit is"
            f" {limit} consents per request: send it in parts."
        )
        self.limit = limit


class UnsupportedFormat(ContactImportError, ValueError):
    """The body's Content-Type is neither CSV nor JSON lines."""

    def __init__(self, media_type: str | None, accepted: list[str]) -> None:
        given = media_type or "(none)"
        super().__init__(f"Content-Type {given} is not an import format; send one of {', '.join(accepted)}.")
