"""`baton import` cuts a file into parts the route takes: at most so many rows and bytes, a CSV
header on each, no row split, and each part's lines traced back to the file's."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from baton.imports.models import ImportFormat
from infra.imports import ImportFileError, Progress, file_format, parts_of


def test_a_csv_is_cut_into_parts_that_each_repeat_the_header_and_keep_quoted_line_breaks() -> None:
    text = 'contact_id,note\nc-1,"two\nlines"\n\nc-2,x\nc-3,y\n'

    first, second = parts_of(text, ImportFormat.CSV, max_rows=2)

    assert first.body() == b'contact_id,note\nc-1,"two\nlines"\nc-2,x\n'
    assert (first.rows, first.lines) == (2, [1, 2, 3, 5])
    assert second.body() == b"contact_id,note\nc-3,y\n"
    assert second.file_line(2) == 6


def test_a_part_never_holds_more_bytes_than_the_limit() -> None:
    text = "".join(f'{{"contact_id": "c-{n}"}}\n' for n in range(10))

    parts = parts_of(text, ImportFormat.JSONL, max_rows=100, max_bytes=70)

    assert [part.rows for part in parts] == [3, 3, 3, 1]
    assert all(len(part.body()) <= 70 for part in parts)
    assert parts[1].lines == [4, 5, 6]


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("a.csv", ImportFormat.CSV), ("a.JSONL", ImportFormat.JSONL), ("a.ndjson", ImportFormat.JSONL)],
)
def test_the_format_comes_from_the_file_name(name: str, fmt: ImportFormat) -> None:
    assert file_format(Path(name), None) == fmt


def test_a_file_named_neither_needs_its_format_said() -> None:
    with pytest.raises(ImportFileError, match="--format"):
        file_format(Path("contacts.txt"), None)

    assert file_format(Path("contacts.txt"), "csv") == ImportFormat.CSV


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_updates_in_place_on_a_terminal() -> None:
    terminal, printed = _Terminal(), []
    progress = Progress(10, terminal, printed.append)

    progress.update(5, 1, 2)
    progress.update(10, 2, 2)
    progress.finish()

    assert printed == []
    shown = terminal.getvalue()
    assert shown.startswith("\r5 / 10 rows (")
    assert "\r10 / 10 rows (" in shown
    assert shown.endswith("part 2 of 2\n")
