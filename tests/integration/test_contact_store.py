"""Contacts in DynamoDB: lookups by email and phone through the GSIs, stored forms, export."""

from __future__ import annotations

import json

import boto3
import pytest

from baton.consent.service import ConsentService
from baton.consent.vocabulary import Channel
from baton.contacts.exceptions import AddressInUse, StaleContact
from baton.contacts.models import ContactInput
from baton.contacts.repository import DynamoContactRepository
from baton.contacts.service import ContactService
from baton.settings import Settings


def test_given_a_mixed_case_email_when_looked_up_in_any_case_then_found(contacts: ContactService) -> None:
    contacts.upsert("crm-1", ContactInput(email="Ana.Silva@Example.COM"))

    for query in ("ana.silva@example.com", "ANA.SILVA@EXAMPLE.COM", " Ana.Silva@example.com "):
        found = contacts.find_by_email(query)
        assert found is not None
        assert found.contact_id == "crm-1"
    assert contacts.find_by_email("other@example.com") is None


def test_given_a_phone_when_looked_up_in_another_form_then_found(contacts: ContactService) -> None:
    contacts.upsert("crm-1", ContactInput(phone="(201) 555-0123", country="US"))

    assert [c.contact_id for c in contacts.find_by_phone("+1 201.555.0123")] == ["crm-1"]
    assert [c.contact_id for c in contacts.find_by_phone("201 555 0123", country="us")] == ["crm-1"]


def test_given_a_changed_email_then_the_old_one_no_longer_finds_the_contact(contacts: ContactService) -> None:
    contacts.upsert("crm-1", ContactInput(email="old@example.com"))

    contacts.upsert("crm-1", ContactInput(email="new@example.com"))

    assert contacts.find_by_email("old@example.com") is None
    found = contacts.find_by_email("new@example.com")
    assert found is not None
    assert found.contact_id == "crm-1"


def test_given_an_email_of_another_contact_then_refused(contacts: ContactService) -> None:
    contacts.upsert("crm-1", ContactInput(email="ana@example.com"))

    with pytest.raises(AddressInUse):
        contacts.upsert("crm-2", ContactInput(email="ANA@example.com"))


def test_a_contact_without_email_stores_no_email_attribute(contacts: ContactService, aws: Settings) -> None:
    contacts.upsert("crm-1", ContactInput(first_name="Bo"))

    item = boto3.client("dynamodb").get_item(TableName=aws.contacts_table, Key={"contact_id": {"S": "crm-1"}})

    assert "email" not in item["Item"]
    assert "phone" not in item["Item"]


def test_attributes_round_trip_with_floats_and_nesting(contacts: ContactService) -> None:
    attributes = {"score": 9.75, "orders": 12, "vip": True, "last": None, "seen": ["web", {"at": 1.5}]}

    contacts.upsert("crm-1", ContactInput(attributes=attributes))

    assert contacts.get("crm-1").attributes == attributes


def test_a_write_over_a_stale_version_is_refused(contacts: ContactService, aws: Settings) -> None:
    contacts.upsert("crm-1", ContactInput(first_name="Ana"))
    repository = DynamoContactRepository(aws.contacts_table)
    record = repository.get("crm-1")
    assert record is not None
    contacts.upsert("crm-1", ContactInput(first_name="Ana Maria"))  # someone else writes first

    with pytest.raises(StaleContact):
        repository.put(record.model_copy(update={"last_name": "Silva", "version": 2}), expected_version=1)
    assert contacts.get("crm-1").first_name == "Ana Maria"


def test_the_export_is_json_with_profile_consent_and_timeline_r_gdpr_5(
    contacts: ContactService, consent: ConsentService
) -> None:
    contacts.upsert("crm-1", ContactInput(email="ana@example.com", phone="+12015550123", first_name="Ana"))
    consent.request("crm-1", Channel.EMAIL, "news", "ana@example.com")

    export = json.loads(json.dumps(contacts.export("crm-1").model_dump(mode="json")))

    assert export["profile"]["contact_id"] == "crm-1"
    assert export["profile"]["phone"] == "+12015550123"
    assert [s["status"] for s in export["consent"]["states"]] == ["pending"]
    assert [e["status"] for e in export["consent"]["entries"]] == ["pending"]
    assert [e["kind"] for e in export["timeline"]] == ["consent.changed", "contact.created"]
    assert export["suppression"] == []
