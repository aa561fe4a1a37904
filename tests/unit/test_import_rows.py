"""Reading an import file and checking its rows: every refusal names the line of the file and
the field, with the single-contact routes' own rules (E.164, email, IANA zones) and the consent
route's proof rule (R-TCPA-1, R-GDPR-2)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from baton.consent.vocabulary import Basis, Channel, ConsentStatus, Source
from baton.imports.exceptions import InvalidRows, RowError, TooManyRows, UnsupportedFormat
from baton.imports.models import ImportFormat
from baton.imports.rows import RawRow, read_rows
from baton.imports.service import ValidRow, import_format, validate_row

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
PROOF = {"consent_text": "Send me the news, please.", "obtained_at": "2026-04-01T09:00:00Z"}


def _refusals(body: str, fmt: ImportFormat) -> list[tuple[int, str]]:
    with pytest.raises(InvalidRows) as refused:
        read_rows(body, fmt)
    return [(error.line, error.field) for error in refused.value.errors]


def _valid(values: dict[str, object], actor: str | None = "crm:import") -> ValidRow:
    row, errors = validate_row(RawRow(2, values), actor, NOW)
    assert errors == []
    assert row is not None
    return row


def _refused(values: dict[str, object], actor: str | None = "crm:import") -> list[RowError]:
    row, errors = validate_row(RawRow(7, values), actor, NOW)
    assert row is None
    return errors


# Reading ---------------------------------------------------------------------------------


def test_a_csv_row_keeps_the_line_it_starts_on_even_after_a_quoted_line_break() -> None:
    body = 'contact_id,first_name,attributes\nc-1,"Ana\nMaria",\n\nc-2,Bo,"{""plan"": ""gold""}"\n'

    rows = read_rows(body, ImportFormat.CSV)

    assert [(row.line, row.values) for row in rows] == [
        (2, {"contact_id": "c-1", "first_name": "Ana\nMaria"}),
        (5, {"contact_id": "c-2", "first_name": "Bo", "attributes": {"plan": "gold"}}),
    ]


def test_an_empty_csv_cell_is_a_field_not_given_so_it_keeps_its_stored_value() -> None:
    (row,) = read_rows("contact_id,email,phone\nc-1,,+14255550182\n", ImportFormat.CSV)

    assert row.values == {"contact_id": "c-1", "phone": "+14255550182"}


def test_an_unknown_or_repeated_csv_column_is_refused_on_the_header_line() -> None:
    refusals = _refusals("contact_id,emial,contact_id\nc-1,a@example.com,c-1\n", ImportFormat.CSV)

    assert refusals == [(1, "emial"), (1, "contact_id")]


def test_a_csv_row_with_more_cells_than_columns_or_bad_json_attributes_names_its_line() -> None:
    body = 'contact_id,attributes\nc-1,{"plan": "gold"},extra\nc-2,{plan}\nc-3,"{""n"": NaN}"\n'

    assert _refusals(body, ImportFormat.CSV) == [(2, "row"), (3, "attributes"), (4, "attributes")]


def test_a_jsonl_line_that_is_not_one_storable_contact_object_is_refused_by_its_line() -> None:
    body = "\n".join(
        [
            json.dumps({"contact_id": "c-1"}),
            "",
            "{not json",
            json.dumps(["c-2"]),
            json.dumps({"contact_id": "c-3", "nickname": "Bo"}),
            json.dumps({"contact_id": "c-4", "attributes": {"score": 1e300}}),
            '{"contact_id": "c-5", "first_name": "\\ud800"}',
        ]
    )

    assert _refusals(body, ImportFormat.JSONL) == [
        (3, "row"),
        (4, "row"),
        (5, "nickname"),
        (6, "attributes.score"),
        (7, "first_name"),
    ]


def test_a_jsonl_value_may_hold_a_line_separator_that_is_not_a_newline() -> None:
    (row,) = read_rows(
        json.dumps({"contact_id": "c-1", "last_name": "A\u2028B"}, ensure_ascii=False), ImportFormat.JSONL
    )

    assert row.values["last_name"] == "A\u2028B"


@pytest.mark.parametrize("fmt", list(ImportFormat))
def test_more_rows_than_one_request_takes_is_refused_naming_the_limit(fmt: ImportFormat) -> None:
    lines = [json.dumps({"contact_id": f"c-{n}"}) for n in range(4)]
    body = (
        "\n".join(lines)
        if fmt == ImportFormat.JSONL
        else "contact_id\n" + "\n".join(f"c-{n}" for n in range(4))
    )

    with pytest.raises(TooManyRows, match="limit is 3 rows per request"):
        read_rows(body, fmt, max_rows=3)


@pytest.mark.parametrize(
    ("media_type", "fmt"),
    [
        ("text/csv", ImportFormat.CSV),
        ("text/csv; charset=utf-8", ImportFormat.CSV),
        ("application/x-ndjson", ImportFormat.JSONL),
    ],
)
def test_the_content_type_names_the_format(media_type: str, fmt: ImportFormat) -> None:
    assert import_format(media_type) == fmt


@pytest.mark.parametrize("media_type", [None, "application/json", "text/plain"])
def test_a_body_in_another_format_is_refused(media_type: str | None) -> None:
    with pytest.raises(UnsupportedFormat, match="text/csv"):
        import_format(media_type)


# Checking a row --------------------------------------------------------------------------


def test_a_row_is_normalised_as_the_single_contact_route_normalises_it() -> None:
    row = _valid(
        {
            "contact_id": "c-1",
            "email": "Ana@Example.COM",
            "country": "us",
            "phone": "(425) 555-0182",
            "timezone": "America/New_York",
        }
    )

    assert (row.contact.email, row.contact.phone, row.contact.country) == (
        "ana@example.com",
        "+14255550182",
        "US",
    )
    assert row.consents == []


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"email": "ana@"}, "email"),
        ({"phone": "12"}, "phone"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"country": "XX"}, "country"),
        ({"contact_id": "has space"}, "contact_id"),
    ],
)
def test_an_invalid_contact_field_is_named_with_its_line(values: dict[str, str], field: str) -> None:
    errors = _refused({"contact_id": "c-1", **values})

    assert [(error.line, error.field) for error in errors] == [(7, field)]


def test_a_row_without_its_contact_id_is_refused() -> None:
    assert [error.field for error in _refused({"email": "ana@example.com"})] == ["contact_id"]


def test_a_row_consent_is_one_grant_per_channel_and_topic_recorded_as_an_import_by_the_caller() -> None:
    row = _valid(
        {"contact_id": "c-1", "consent_channels": "email sms", "consent_topics": "news,offers", **PROOF}
    )

    assert [(c.channel, c.topic) for c in row.consents] == [
        (Channel.EMAIL, "news"),
        (Channel.EMAIL, "offers"),
        (Channel.SMS, "news"),
        (Channel.SMS, "offers"),
    ]
    (command, *_) = row.consents
    assert (command.status, command.basis, command.source) == (
        ConsentStatus.GRANTED,
        Basis.EXPRESS,
        Source.IMPORT,
    )
    assert command.proof.actor == "crm:import"


@pytest.mark.parametrize(
    ("proof", "field"),
    [
        ({"obtained_at": "2026-04-01T09:00:00Z"}, "consent_text"),
        ({"consent_text": "Yes."}, "obtained_at"),
        ({"consent_text": "Yes.", "obtained_at": "2026-06-01T09:00:00Z"}, "obtained_at"),
    ],
    ids=["no words shown", "no date agreed", "agreed in the future"],
)
def test_r_tcpa_1_r_gdpr_2_an_imported_grant_without_its_proof_is_refused_naming_the_field(
    proof: dict[str, str], field: str
) -> None:
    errors = _refused({"contact_id": "c-1", "consent_channels": "sms", "consent_topics": "news", **proof})

    assert [(error.line, error.field) for error in errors] == [(7, field)]


def test_r_gdpr_2_an_imported_grant_names_who_recorded_it() -> None:
    errors = _refused(
        {"contact_id": "c-1", "consent_channels": "email", "consent_topics": "news", **PROOF}, actor=None
    )

    assert [error.field for error in errors] == ["actor"]


def test_a_revocation_needs_no_proof_of_words_shown() -> None:
    row = _valid(
        {
            "contact_id": "c-1",
            "consent_channels": "sms",
            "consent_topics": "news",
            "consent_status": "revoked",
        }
    )

    assert [command.status for command in row.consents] == [ConsentStatus.REVOKED]


def test_proof_without_a_channel_and_topic_is_refused_naming_them() -> None:
    errors = _refused({"contact_id": "c-1", **PROOF})

    assert sorted(error.field for error in errors) == ["consent_channels", "consent_topics"]


def test_a_refusal_names_its_first_values_in_order_of_line_and_lists_at_most_a_hundred() -> None:
    errors = [RowError(line, "email", "not an email") for line in range(151, 1, -1)]

    refused = InvalidRows(errors)

    assert str(refused) == (
        "150 value(s) refused: line 2 email, line 3 email, line 4 email, line 5 email, line 6 email"
        " and 145 more. Nothing was imported."
    )
    assert [error.line for error in refused.reported] == list(range(2, 102))
