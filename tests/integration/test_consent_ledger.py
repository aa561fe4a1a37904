"""The consent ledger in DynamoDB: entry and state written in one transaction, entries never updated."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import boto3
import pytest

from baton.clock import FixedClock
from baton.consent.exceptions import LedgerWriteConflict
from baton.consent.models import ConsentProof
from baton.consent.repository import DynamoConsentRepository, LedgerWrite
from baton.consent.service import ConsentService
from baton.consent.vocabulary import Basis, Channel, ConsentStatus, Source
from baton.settings import Settings

PROOF = ConsentProof(consent_text="Text me offers.", language="en", form_id="f1", ip="2001:db8::1")


def _items(settings: Settings) -> list[dict[str, Any]]:
    client = boto3.client("dynamodb")
    items: list[dict[str, Any]] = client.scan(TableName=settings.consent_table, ConsistentRead=True)["Items"]
    return sorted(items, key=lambda item: item["sk"]["S"])


def _kinds(settings: Settings) -> list[str]:
    return [item["sk"]["S"].split("#", 1)[0] for item in _items(settings)]


def test_given_a_request_then_one_entry_and_one_state_are_written_together(
    consent: ConsentService, aws: Settings
) -> None:
    consent.request("c1", Channel.SMS, "offers", "+1 201 555 0123", proof=PROOF)

    items = _items(aws)

    assert _kinds(aws) == ["ENTRY", "STATE"]
    entry, state = items
    assert entry["address"] == {"S": "+12015550123"}
    assert entry["proof"]["M"]["consent_text"] == {"S": "Text me offers."}
    assert entry["proof"]["M"]["ip"] == {"S": "2001:db8::1"}
    assert state["sk"] == {"S": "STATE#sms#offers"}
    assert state["status"] == {"S": "pending"}
    assert state["entry_id"] == entry["entry_id"]


def test_given_an_entry_when_consent_changes_then_the_entry_is_never_updated(
    consent: ConsentService, clock: FixedClock, aws: Settings
) -> None:
    consent.request("c1", Channel.EMAIL, "news", "ana@example.com", proof=PROOF)
    first_entry = _items(aws)[0]
    clock.set(clock.now() + timedelta(minutes=3))

    consent.grant("c1", Channel.EMAIL, "news", source=Source.LINK, proof=ConsentProof(ip="198.51.100.4"))
    clock.set(clock.now() + timedelta(days=3))
    consent.revoke("c1", Channel.EMAIL, "news", source=Source.LINK)

    assert _kinds(aws) == ["ENTRY", "ENTRY", "ENTRY", "STATE"]
    assert _items(aws)[0] == first_entry
    assert [e.status for e in consent.entries("c1")] == [
        ConsentStatus.PENDING,
        ConsentStatus.GRANTED,
        ConsentStatus.REVOKED,
    ]
    state = consent.state("c1", Channel.EMAIL, "news")
    assert state is not None
    assert state.status == ConsentStatus.REVOKED
    assert state.version == 3


def test_given_an_entry_id_that_exists_when_appending_then_nothing_is_written(
    consent: ConsentService, aws: Settings
) -> None:
    first = consent.request("c1", Channel.EMAIL, "news", "ana@example.com")
    assert first.entry is not None
    before = _items(aws)
    repository = DynamoConsentRepository(aws.consent_table)
    # A grant that reuses the first entry's id and time: the entry Put's condition fails.
    clash = LedgerWrite(
        entry=first.entry.model_copy(update={"status": ConsentStatus.GRANTED}),
        state=first.state.model_copy(update={"status": ConsentStatus.GRANTED, "version": 2}),
        expected_version=1,
    )

    with pytest.raises(LedgerWriteConflict) as error:
        repository.append([clash])

    assert error.value.entry_exists is True
    assert _items(aws) == before


def test_given_a_state_that_moved_on_when_appending_then_the_entry_is_not_written_either(
    consent: ConsentService, clock: FixedClock, aws: Settings
) -> None:
    first = consent.request("c1", Channel.EMAIL, "news", "ana@example.com")
    assert first.entry is not None
    before = _items(aws)
    clock.set(clock.now() + timedelta(seconds=1))
    stale = LedgerWrite(
        entry=first.entry.model_copy(
            update={
                "entry_id": "01STALE0000000000000000000",
                "timestamp": clock.now(),
                "status": ConsentStatus.REVOKED,
            }
        ),
        state=first.state.model_copy(update={"status": ConsentStatus.REVOKED, "version": 1}),
        expected_version=None,  # written as if no state existed
    )

    with pytest.raises(LedgerWriteConflict) as error:
        DynamoConsentRepository(aws.consent_table).append([stale])

    assert error.value.state_moved is True
    assert error.value.entry_exists is False
    assert _items(aws) == before


def test_given_stop_when_all_sms_topics_are_revoked_then_one_transaction_writes_every_pair(
    consent: ConsentService, aws: Settings
) -> None:
    for topic in ("news", "offers", "events"):
        consent.grant("c1", Channel.SMS, topic, source=Source.KEYWORD, address="+12015550123")
    consent.grant(
        "c1", Channel.EMAIL, "news", source=Source.IMPORT, basis=Basis.EXPRESS, address="a@example.com"
    )

    changes = consent.revoke_all("c1", Channel.SMS, Source.KEYWORD, ConsentProof(message_id="sns-msg-1"))

    assert sorted(c.state.topic for c in changes) == ["events", "news", "offers"]
    sms = [s for s in consent.states("c1") if s.channel == Channel.SMS]
    assert {s.status for s in sms} == {ConsentStatus.REVOKED}
    email = consent.state("c1", Channel.EMAIL, "news")
    assert email is not None
    assert email.status == ConsentStatus.GRANTED
    assert all(e.proof.message_id == "sns-msg-1" for e in consent.entries("c1") if e.status == "revoked")


def test_a_revocation_is_visible_to_the_next_read_at_once_r_tcpa_4(consent: ConsentService) -> None:
    consent.grant("c1", Channel.SMS, "offers", source=Source.KEYWORD, address="+12015550123")

    consent.revoke("c1", Channel.SMS, "offers", source=Source.KEYWORD)

    state = consent.state("c1", Channel.SMS, "offers")
    assert state is not None
    assert not state.is_granted


def test_ledgers_of_two_contacts_do_not_mix(consent: ConsentService) -> None:
    consent.request("c1", Channel.EMAIL, "news", "one@example.com")
    consent.request("c2", Channel.EMAIL, "news", "two@example.com")

    assert [e.address for e in consent.entries("c1")] == ["one@example.com"]
    assert [s.address for s in consent.states("c2")] == ["two@example.com"]
    assert consent.state("c3", Channel.EMAIL, "news") is None
