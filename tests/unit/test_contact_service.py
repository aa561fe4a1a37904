"""Contact upsert, lookup, erasure and export on in-memory repositories."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from baton.clock import FixedClock
from baton.consent.repository import InMemoryConsentRepository
from baton.consent.service import ConsentService
from baton.consent.vocabulary import Channel, ConsentStatus, Source
from baton.contacts.exceptions import AddressInUse, ContactIdMismatch, ContactNotFound
from baton.contacts.models import ContactInput, ContactRecord, Sales
from baton.contacts.repository import InMemoryContactRepository
from baton.contacts.service import ContactService
from baton.suppression.models import SuppressionReason
from baton.suppression.repository import InMemorySuppressionRepository
from baton.suppression.service import SuppressionService
from baton.timeline.repository import InMemoryTimelineRepository
from baton.timeline.service import TimelineService

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


class World:
    def __init__(self) -> None:
        self.clock = FixedClock(T0)
        self.repository = InMemoryContactRepository()
        self.timeline = TimelineService(InMemoryTimelineRepository(), self.clock)
        self.consent = ConsentService(InMemoryConsentRepository(), self.timeline, self.clock)
        self.suppression = SuppressionService(
            InMemorySuppressionRepository(), lambda: b"salt" * 16, self.clock
        )
        self.contacts = ContactService(
            self.repository, self.consent, self.timeline, self.suppression, self.clock
        )


@pytest.fixture
def world() -> World:
    return World()


def _ana(world: World) -> str:
    result = world.contacts.upsert(
        "crm-1",
        ContactInput(
            email="Ana@Example.com",
            phone="+55 11 91234-5678",
            first_name="Ana",
            last_name="Silva",
            attributes={"plan": "gold", "visits": 3},
            sales=Sales(owner="rep@example.com", deal_open=True),
        ),
    )
    return result.contact.contact_id


def test_given_a_new_id_when_upserted_then_created(world: World) -> None:
    result = world.contacts.upsert("crm-1", ContactInput(email="ana@example.com"))

    assert result.created is True
    assert result.contact.contact_id == "crm-1"
    assert world.contacts.get("crm-1").email == "ana@example.com"


def test_given_no_id_when_upserted_then_one_is_generated(world: World) -> None:
    result = world.contacts.upsert(None, ContactInput(first_name="Bo"))

    assert len(result.contact.contact_id) == 26
    assert world.contacts.get(result.contact.contact_id).first_name == "Bo"


def test_given_a_stored_contact_when_a_put_omits_fields_then_they_are_kept(world: World) -> None:
    _ana(world)

    result = world.contacts.upsert("crm-1", ContactInput(first_name="Ana Maria"))

    assert result.created is False
    assert result.contact.first_name == "Ana Maria"
    assert result.contact.last_name == "Silva"
    assert result.contact.email == "ana@example.com"
    assert result.contact.sales.deal_open is True


def test_given_a_stored_contact_when_a_put_sends_null_then_the_field_is_cleared(world: World) -> None:
    _ana(world)

    result = world.contacts.upsert(
        "crm-1", ContactInput.model_validate({"last_name": None, "attributes": None, "sales": None})
    )

    assert result.contact.last_name is None
    assert result.contact.attributes == {}
    assert result.contact.sales == Sales()


def test_given_attributes_when_a_put_sends_new_ones_then_the_map_is_replaced_whole(world: World) -> None:
    _ana(world)

    result = world.contacts.upsert("crm-1", ContactInput(attributes={"plan": "silver"}))

    assert result.contact.attributes == {"plan": "silver"}


def test_given_an_identical_put_then_nothing_is_written(world: World) -> None:
    _ana(world)
    before = world.repository.get("crm-1")
    world.clock.set(T0 + timedelta(hours=1))

    world.contacts.upsert("crm-1", ContactInput(first_name="Ana", email="ANA@example.com"))

    assert world.repository.get("crm-1") == before


def test_given_body_and_path_ids_differ_then_refused(world: World) -> None:
    with pytest.raises(ContactIdMismatch):
        world.contacts.upsert("crm-1", ContactInput(contact_id="crm-2"))


def test_given_an_email_of_another_contact_then_address_in_use(world: World) -> None:
    _ana(world)

    with pytest.raises(AddressInUse) as error:
        world.contacts.upsert("crm-2", ContactInput(email="ana@EXAMPLE.com"))

    assert error.value.code == "address_in_use"


def test_a_shared_phone_is_allowed_and_both_contacts_are_found(world: World) -> None:
    _ana(world)
    world.contacts.upsert("crm-2", ContactInput(phone="+5511912345678"))

    found = world.contacts.find_by_phone("(11) 91234-5678", country="BR")

    assert [c.contact_id for c in found] == ["crm-1", "crm-2"]


def test_find_by_email_ignores_letter_case_and_bad_input(world: World) -> None:
    _ana(world)

    found = world.contacts.find_by_email("  ANA@example.COM")

    assert found is not None
    assert found.contact_id == "crm-1"
    assert world.contacts.find_by_email("not an email") is None
    assert world.contacts.find_by_phone("not a phone") == []


def test_get_of_an_unknown_contact_is_not_found(world: World) -> None:
    with pytest.raises(ContactNotFound):
        world.contacts.get("nobody")
    with pytest.raises(ContactNotFound):
        world.contacts.export("nobody")


def test_upserts_are_recorded_on_the_timeline_by_field_name_only(world: World) -> None:
    _ana(world)
    world.contacts.upsert("crm-1", ContactInput(first_name="Ana Maria"))

    events = world.timeline.page("crm-1").items

    assert [(e.kind, e.detail) for e in events] == [
        ("contact.updated", {"fields": ["first_name"]}),
        ("contact.created", {"fields": ["attributes", "email", "first_name", "last_name", "phone", "sales"]}),
    ]


def test_given_erasure_then_profile_consent_and_timeline_are_gone_and_addresses_suppressed_r_gdpr_5(
    world: World,
) -> None:
    contact_id = _ana(world)
    world.consent.request(contact_id, Channel.EMAIL, "news", "ana@example.com")
    world.consent.grant(contact_id, Channel.EMAIL, "news", source=Source.LINK)

    report = world.contacts.erase(contact_id)

    assert report.contact_removed is True
    assert report.consent_items_removed == 3  # two entries and one state
    assert report.timeline_events_removed == 3
    assert world.consent.states(contact_id) == []
    assert world.timeline.page(contact_id).items == []
    assert world.contacts.find_by_email("ana@example.com") is None
    suppressed = world.suppression.check(Channel.EMAIL, "ana@example.com")
    assert suppressed is not None
    assert suppressed.reason == SuppressionReason.ERASED
    for channel in (Channel.SMS, Channel.VOICE, Channel.WHATSAPP):
        assert world.suppression.check(channel, "+5511912345678") is not None


def test_erasing_twice_succeeds_and_removes_nothing_more(world: World) -> None:
    contact_id = _ana(world)
    world.contacts.erase(contact_id)

    again = world.contacts.erase(contact_id)

    assert again.contact_removed is False
    assert again.consent_items_removed == 0
    assert again.timeline_events_removed == 0


def test_given_a_stored_phone_that_todays_metadata_refuses_when_erased_then_it_is_still_suppressed(
    world: World,
) -> None:
    # Stored when it was valid; a phonenumbers upgrade must not make the erasure fail.
    record = ContactRecord(
        contact_id="crm-old", phone="+10005550123", created_at=T0, updated_at=T0, version=1
    )
    world.repository.put(record, expected_version=None)

    report = world.contacts.erase("crm-old")

    assert report.contact_removed is True
    assert world.suppression.check(Channel.SMS, "+10005550123") is not None


def test_export_holds_profile_consent_timeline_and_suppression(world: World) -> None:
    contact_id = _ana(world)
    world.consent.request(contact_id, Channel.SMS, "offers", "+5511912345678")
    world.suppression.add(Channel.EMAIL, "ana@example.com", SuppressionReason.HARD_BOUNCE, "ses")

    export = world.contacts.export(contact_id).model_dump(mode="json")

    assert export["format"] == "baton.contact-export/1"
    assert export["profile"]["email"] == "ana@example.com"
    assert export["profile"]["created_at"] == "2026-05-01T12:00:00.000000Z"
    assert export["consent"]["states"][0]["status"] == ConsentStatus.PENDING
    assert export["consent"]["entries"][0]["address"] == "+5511912345678"
    assert [e["kind"] for e in export["timeline"]] == ["consent.changed", "contact.created"]
    assert [s["reason"] for s in export["suppression"]] == ["hard_bounce"]
