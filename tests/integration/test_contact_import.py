"""`POST /v1/contacts:import` on moto: a file of contacts stored exactly as the single-contact
route stores them, in bulk, all or nothing, and idempotent; its consents recorded as the
consent route records them, each with its proof (R-TCPA-1, R-GDPR-2)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from baton import bootstrap
from baton.consent.vocabulary import Channel, ConsentStatus, Source
from baton.contacts import repository
from baton.contacts.models import ContactRecord
from baton.contacts.repository import DynamoContactRepository
from baton.data import items
from baton.imports.models import MAX_CONSENTS, MAX_IMPORT_BYTES, MAX_ROWS
from baton.settings import Settings
from baton.suppression.models import SuppressionReason
from tests.integration import handler_calls
from tests.integration.every_table import every_item
from tests.integration.handler_calls import Answer, Baton

IMPORT = "/v1/contacts:import"
CSV = {"Content-Type": "text/csv"}
JSONL = {"Content-Type": "application/x-ndjson"}
HEADER = ",".join(
    [
        *("contact_id", "email", "phone", "country", "first_name", "timezone", "attributes"),
        *("consent_channels", "consent_topics", "consent_text", "actor", "obtained_at"),
    ]
)
ANA = ",".join(
    [
        *("c-ana", "Ana@Example.com", "(425) 555-0182", "US", "Ana", "America/New_York"),
        '"{""plan"": ""gold""}"',
        *("email", "news", "Send me news", "crm:maria", "2026-01-05T10:00:00Z"),
    ]
)
BO = "c-bo,bo@example.com,,,Bo,,,,,,,"
FILE = f"{HEADER}\n{ANA}\n{BO}\n"


@pytest.fixture
def baton(aws: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Baton]:
    yield handler_calls.start(aws, monkeypatch)
    handler_calls.stop()


def _import(baton: Baton, body: str, headers: dict[str, str] = CSV) -> Answer:
    return baton.call("POST", IMPORT, raw=body, headers=headers)


def _timeline_kinds(baton: Baton, contact_id: str) -> list[str]:
    answer = baton.call("GET", f"/v1/contacts/{contact_id}/timeline", query={"limit": "100"})
    return [event["kind"] for event in answer.body["items"]]


def _stored(contact_id: str) -> ContactRecord:
    record = DynamoContactRepository(bootstrap.services().settings.contacts_table).get(contact_id)
    assert record is not None
    return record


def test_an_imported_contact_is_stored_as_the_single_contact_route_stores_it(baton: Baton) -> None:
    assert _import(baton, FILE).body == {
        "rows": 2,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "consents_recorded": 1,
    }
    put = {
        "email": "Ana@Example.com",
        "phone": "(425) 555-0182",
        "country": "US",
        "first_name": "Ana",
        "timezone": "America/New_York",
        "attributes": {"plan": "gold"},
    }
    assert baton.call("PUT", "/v1/contacts/c-put", put).status == 409  # one email is one contact
    assert baton.call("PUT", "/v1/contacts/c-put", {**put, "email": "ana.put@example.com"}).status == 201

    imported, single = _stored("c-ana"), _stored("c-put")
    same = {"generation", "contact_id", "email", "created_at", "updated_at"}
    assert imported.model_dump(exclude=same) == single.model_dump(exclude=same)
    assert imported.email == "ana@example.com"
    assert imported.generation
    assert imported.generation != single.generation
    assert _timeline_kinds(baton, "c-ana") == ["consent.changed", "contact.created"]
    assert baton.call("GET", "/v1/contacts/c-bo").body["first_name"] == "Bo"


def test_r_gdpr_2_an_imported_consent_keeps_its_proof_in_the_ledger(baton: Baton) -> None:
    _import(baton, FILE)

    (entry,) = bootstrap.services().consent.entries("c-ana")
    assert (entry.channel, entry.topic, entry.status, entry.source) == (
        Channel.EMAIL,
        "news",
        ConsentStatus.GRANTED,
        "import",
    )
    assert entry.address == "ana@example.com"
    assert (entry.proof.consent_text, entry.proof.actor) == ("Send me news", "crm:maria")
    assert entry.proof.obtained_at is not None
    assert entry.proof.obtained_at.isoformat().startswith("2026-01-05T10:00")


def test_importing_the_same_file_twice_changes_nothing_the_second_time(baton: Baton) -> None:
    _import(baton, FILE)
    before = baton.snapshot()

    again = _import(baton, FILE)

    assert again.body == {"rows": 2, "created": 0, "updated": 0, "unchanged": 2, "consents_recorded": 0}
    assert baton.snapshot() == before


def test_a_changed_row_updates_its_contact_and_says_which_fields_changed(baton: Baton) -> None:
    _import(baton, FILE)

    answer = _import(baton, FILE.replace(",Bo,", ",Bob,"))

    assert answer.body == {"rows": 2, "created": 0, "updated": 1, "unchanged": 1, "consents_recorded": 0}
    assert _timeline_kinds(baton, "c-bo") == ["contact.updated", "contact.created"]
    events = baton.call("GET", "/v1/contacts/c-bo/timeline").body["items"]
    assert events[0]["detail"] == {"fields": ["first_name"]}


def test_a_jsonl_file_is_imported_with_null_clearing_a_field(baton: Baton) -> None:
    _import(baton, FILE)
    lines = [
        {"contact_id": "c-bo", "first_name": None, "attributes": {"vip": True, "since": 2019}},
        {"contact_id": "c-cy", "phone": "+5511912345678", "locale": "pt-BR"},
    ]

    answer = _import(baton, "\n".join(json.dumps(line) for line in lines) + "\n", JSONL)

    assert answer.body == {"rows": 2, "created": 1, "updated": 1, "unchanged": 0, "consents_recorded": 0}
    bo = baton.call("GET", "/v1/contacts/c-bo").body
    assert (bo["first_name"], bo["attributes"]) == (None, {"vip": True, "since": 2019})


def test_one_invalid_row_is_a_422_naming_its_line_and_field_and_nothing_is_written(baton: Baton) -> None:
    before = baton.snapshot()
    bad = FILE + "c-cy,cy@,,,Cy,,,,,,,\nc-di,di@example.com,,,Di,Mars/Base,,,,,,\n"

    answer = _import(baton, bad)

    assert answer.status == 422
    assert answer.body["error"]["code"] == "invalid_field"
    assert [(d["line"], d["field"]) for d in answer.body["error"]["details"]] == [
        (4, "email"),
        (5, "timezone"),
    ]
    assert baton.snapshot() == before


def test_r_tcpa_1_a_row_whose_consent_lacks_its_proof_is_refused_and_nothing_is_written(baton: Baton) -> None:
    before = baton.snapshot()
    no_words = ANA.replace("Send me news", "")
    no_date = ANA.replace("2026-01-05T10:00:00Z", "").replace("c-ana,Ana@", "c-ann,Ann@")

    answer = _import(baton, f"{HEADER}\n{no_words}\n{no_date}\n{BO}\n")

    assert answer.status == 422
    assert [(d["line"], d["field"]) for d in answer.body["error"]["details"]] == [
        (2, "consent_text"),
        (3, "obtained_at"),
    ]
    assert baton.snapshot() == before


def test_an_email_that_is_another_contacts_or_twice_in_the_file_is_refused_by_its_line(baton: Baton) -> None:
    assert baton.call("PUT", "/v1/contacts/c-old", {"email": "old@example.com"}).status == 201
    before = baton.snapshot()
    rows = "".join(
        f"{row},,,,,,,,,,\n"
        for row in ("c-new,OLD@example.com", "c-x,x@example.com", "c-y,x@example.com", "c-x,")
    )

    answer = _import(baton, f"{HEADER}\n{rows}")

    details = [(d["line"], d["field"]) for d in answer.body["error"]["details"]]
    assert (answer.status, details) == (422, [(4, "email"), (5, "contact_id")])
    answer = _import(baton, f"{HEADER}\n{rows.splitlines()[0]}\n")
    assert [(d["line"], d["field"], d["type"]) for d in answer.body["error"]["details"]] == [
        (2, "email", "address_in_use")
    ]
    assert baton.snapshot() == before


def test_r_ctia_4_an_import_cannot_grant_over_a_suppression_or_the_persons_own_opt_out(baton: Baton) -> None:
    _import(baton, FILE)
    services = bootstrap.services()
    services.consent.revoke("c-ana", Channel.EMAIL, "news", source=Source.LINK)  # the person's own opt-out
    services.suppression.add(Channel.EMAIL, "bo@example.com", SuppressionReason.COMPLAINT, "test")
    before = baton.snapshot()
    bo = BO.replace(",,,,,,,", ",,,email,news,Send me news,crm:maria,2026-01-05T10:00:00Z")
    renewed = ANA.replace("2026-01-05", "2026-02-05")

    answer = _import(baton, f"{HEADER}\n{renewed}\n{bo}\n")

    details = [(d["line"], d["field"]) for d in answer.body["error"]["details"]]
    assert (answer.status, details) == (422, [(2, "consent_status"), (3, "consent_channels")])
    assert baton.snapshot() == before


def test_r_gdpr_2_grants_beyond_one_transaction_are_each_recorded_with_their_entry_and_timeline(
    baton: Baton,
) -> None:
    rows = [f"c-{n},c{n}@example.com,,,,,,email,news,Yes,crm:maria,2026-01-05T10:00:00Z" for n in range(60)]

    answer = _import(baton, "\n".join([HEADER, *rows]) + "\n")

    assert answer.body["consents_recorded"] == 60
    consent = bootstrap.services().consent
    for n in (0, 49, 50, 59):
        (entry,) = consent.entries(f"c-{n}")
        state = consent.state(f"c-{n}", Channel.EMAIL, "news")
        assert state is not None
        assert (state.entry_id, state.address, state.status) == (
            entry.entry_id,
            f"c{n}@example.com",
            "granted",
        )
        assert _timeline_kinds(baton, f"c-{n}") == ["consent.changed", "contact.created"]


def test_r_ctia_3_an_imported_sms_opt_in_gets_its_one_confirmation_text(baton: Baton) -> None:
    row = ANA.replace(",email,news,", ",sms,news offers,")

    answer = _import(baton, f"{HEADER}\n{row}\n")

    assert answer.body["consents_recorded"] == 2
    assert baton.snapshot()["texts"] == 1


def test_more_rows_than_one_request_takes_is_a_413_naming_the_limit(baton: Baton) -> None:
    body = "contact_id\n" + "\n".join(f"c-{n}" for n in range(MAX_ROWS + 1)) + "\n"

    answer = _import(baton, body)

    assert answer.status == 413
    assert answer.body["error"]["code"] == "payload_too_large"
    assert f"{MAX_ROWS} rows per request" in answer.body["error"]["message"]


def test_more_consents_than_one_request_records_is_a_413_naming_the_limit_and_writes_nothing(
    baton: Baton,
) -> None:
    before = baton.snapshot()
    topics = " ".join(f"t{n}" for n in range(20))  # the most one row names
    rows = [
        f"c-{n},,,,,,,email,{topics},Yes,crm:maria,2026-01-05T10:00:00Z"
        for n in range(MAX_CONSENTS // 20 + 1)
    ]

    answer = _import(baton, "\n".join([HEADER, *rows]) + "\n")

    assert answer.status == 413
    assert f"limit is {MAX_CONSENTS} consents per request" in answer.body["error"]["message"]
    assert baton.snapshot() == before


def test_a_body_over_the_size_limit_is_a_413_naming_it(baton: Baton) -> None:
    answer = _import(baton, "contact_id,note\n" + "c-1," + "x" * MAX_IMPORT_BYTES + "\n")

    assert answer.status == 413
    assert str(MAX_IMPORT_BYTES) in answer.body["error"]["message"]


def test_another_content_type_is_a_400_naming_it(baton: Baton) -> None:
    answer = _import(baton, FILE, {"Content-Type": "application/json"})

    assert (answer.status, answer.fields) == (400, {"Content-Type"})


def test_r_gdpr_5_erasing_an_imported_contact_removes_it_all(baton: Baton, aws: Settings) -> None:
    _import(baton, FILE)

    assert baton.call("DELETE", "/v1/contacts/c-ana").status == 202

    assert baton.call("GET", "/v1/contacts/c-ana").status == 404
    text = json.dumps(every_item(aws))
    for personal in ("c-ana", "ana@example.com", "+14255550182", "Send me news"):
        assert personal not in text
    assert "c-bo" in text  # the other imported contact stays


# Bulk writes ---------------------------------------------------------------------------


class _Throttled:
    """A DynamoDB client over moto that takes only the first `taken` writes of every batch and
    hands back the rest as UnprocessedItems, as DynamoDB does under throttling."""

    def __init__(self, client: Any, taken: int) -> None:
        self._client = client
        self._taken = taken
        self.batches: list[int] = []

    def batch_write_item(self, RequestItems: dict[str, list[Any]]) -> dict[str, Any]:
        ((table, requests),) = RequestItems.items()
        self.batches.append(len(requests))
        if self._taken:
            self._client.batch_write_item(RequestItems={table: requests[: self._taken]})
        rest = requests[self._taken :]
        return {"UnprocessedItems": {table: rest} if rest else {}}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def test_unprocessed_writes_are_sent_again_after_a_backoff_and_none_is_dropped(
    aws: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []
    monkeypatch.setattr(items, "sleep", waits.append)
    client = _Throttled(boto3.client("dynamodb"), taken=10)
    repository = DynamoContactRepository(aws.contacts_table, client=client)
    records = [
        ContactRecord.model_validate(
            {
                "contact_id": f"c-{n:03d}",
                "created_at": "2026-05-01T12:00:00Z",
                "updated_at": "2026-05-01T12:00:00Z",
            }
        )
        for n in range(60)
    ]

    repository.put_many(records)

    assert sorted(repository.get_many([record.contact_id for record in records])) == [
        r.contact_id for r in records
    ]
    assert client.batches == [25, 15, 5, 25, 15, 5, 10]  # 25 a call; the unprocessed rest again
    assert len(waits) == 4
    assert all(0 <= wait <= 2.0 for wait in waits)


def test_writes_still_unprocessed_after_every_attempt_fail_loudly(
    aws: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(items, "sleep", lambda _: None)
    client = _Throttled(boto3.client("dynamodb"), taken=0)

    with pytest.raises(items.UnprocessedWrites, match="1 puts unprocessed"):
        items.put_items(client, aws.contacts_table, [items.to_item({"contact_id": "c-1"})])  # type: ignore[arg-type]


@pytest.mark.parametrize("per_email", [0, 10**9], ids=["queried per email", "index read whole"])
def test_an_email_in_use_is_found_whether_the_index_is_queried_or_read_whole(
    baton: Baton, monkeypatch: pytest.MonkeyPatch, per_email: int
) -> None:
    # a few emails against a large table are queried one by one, many against a small one read
    # the index once: either way the same contacts are found
    monkeypatch.setattr(repository, "SCAN_CONTACTS_PER_EMAIL", per_email)
    _import(baton, FILE)

    answer = _import(baton, f"{HEADER}\nc-new,BO@example.com,,,,,,,,,,\nc-free,free@example.com,,,,,,,,,,\n")

    assert [(d["line"], d["field"]) for d in answer.body["error"]["details"]] == [(2, "email")]
