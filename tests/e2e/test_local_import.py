"""Importing a file of contacts on `baton local`: the route of the synthesized template over
HTTP (CSV and JSON lines), a refused row named by line and field, and `baton import` sending a
file in parts with its progress as plain lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra import imports
from infra.http_client import LocalClient

pytestmark = pytest.mark.e2e

IMPORT = "/v1/contacts:import"
HEADER = "contact_id,email,phone,first_name,consent_channels,consent_topics,text_version,obtained_at"
PROOF = "email,news,newsletter-2026-01,2026-01-05T10:00:00Z"


def test_a_csv_file_is_imported_over_http_with_its_consent(api: LocalClient) -> None:
    rows = [f"e2e-imp-1,imp1@example.com,+14255550101,Ada,{PROOF}", "e2e-imp-2,imp2@example.com,,Bea,,,,"]
    body = "\n".join([HEADER, *rows]) + "\n"

    answer = api.post(IMPORT, data=body, headers={"Content-Type": "text/csv"})

    assert answer.status == 200
    assert answer.json() == {"rows": 2, "created": 2, "updated": 0, "unchanged": 0, "consents_recorded": 1}
    assert api.get("/v1/contacts/e2e-imp-1").json()["first_name"] == "Ada"
    again = api.post(IMPORT, data=body, headers={"Content-Type": "text/csv"})
    assert again.json() == {"rows": 2, "created": 0, "updated": 0, "unchanged": 2, "consents_recorded": 0}


def test_a_jsonl_file_is_imported_over_http(api: LocalClient) -> None:
    lines = [{"contact_id": "e2e-imp-3", "email": "imp3@example.com", "attributes": {"plan": "gold"}}]
    body = "\n".join(json.dumps(line) for line in lines)

    answer = api.post(IMPORT, data=body, headers={"Content-Type": "application/x-ndjson"})

    assert answer.json()["created"] == 1
    assert api.get("/v1/contacts/e2e-imp-3").json()["attributes"] == {"plan": "gold"}


def test_a_refused_row_is_a_422_naming_its_line_and_field_over_http(api: LocalClient) -> None:
    body = f"{HEADER}\ne2e-imp-4,imp4@example.com,,Cy,,,,\ne2e-imp-5,imp5@example.com,12,Di,,,,\n"

    answer = api.post(IMPORT, data=body, headers={"Content-Type": "text/csv"})

    assert answer.status == 422
    assert [(d["line"], d["field"]) for d in answer.json()["error"]["details"]] == [(3, "phone")]
    assert api.get("/v1/contacts/e2e-imp-4").status == 404
    assert api.post(IMPORT, data=body, headers={"Content-Type": "text/csv"}, auth=False).status == 401


def test_baton_import_sends_a_file_in_parts_and_prints_its_progress_as_plain_lines(
    api: LocalClient, tmp_path: Path
) -> None:
    file = tmp_path / "contacts.csv"
    rows = [f"e2e-imp-p{n},p{n}@example.com,,P{n},,,," for n in range(5)]
    file.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    printed: list[str] = []

    assert imports.import_file(api, file, out=printed.append, max_rows=2) == 0

    assert [line.split(" (")[0] for line in printed[:-1]] == ["2 / 5 rows", "4 / 5 rows", "5 / 5 rows"]
    assert all("rows/s), part" in line for line in printed[:-1])
    assert printed[-1] == f"{file}: 5 rows imported: 5 created, 0 updated, 0 unchanged; 0 consents recorded"


def test_baton_import_names_the_line_of_the_file_and_the_field_and_writes_nothing_of_that_part(
    api: LocalClient, tmp_path: Path
) -> None:
    file = tmp_path / "contacts.jsonl"
    lines = [
        {"contact_id": "e2e-imp-q1", "email": "q1@example.com"},
        {"contact_id": "e2e-imp-q2", "email": "q2@example.com"},
        {"contact_id": "e2e-imp-q3", "email": "q3@"},
        {"contact_id": "e2e-imp-q4", "email": "q4@example.com", "timezone": "Mars/Base"},
    ]
    file.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    printed: list[str] = []

    assert imports.import_file(api, file, out=printed.append, max_rows=2) == 1

    assert printed[0].startswith("2 / 4 rows")
    assert printed[1].startswith(f"{file}:3: email: ")
    assert printed[2].startswith(f"{file}:4: timezone: ")
    assert printed[3] == "Nothing of part 2 (lines 3-4) was written; the 2 rows before it were imported."
    assert api.get("/v1/contacts/e2e-imp-q2").status == 200
    assert api.get("/v1/contacts/e2e-imp-q4").status == 404
