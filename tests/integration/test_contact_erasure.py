"""Erasure (R-GDPR-5): no personal data left in any table; only salted hashes keep the person suppressed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import JsonValue

from baton import bootstrap, privacy
from baton.consent.models import ConsentProof
from baton.consent.service import ConsentService
from baton.consent.vocabulary import Channel, Source
from baton.contacts.models import ContactInput
from baton.contacts.service import ContactService
from baton.settings import Settings
from baton.suppression.models import SuppressionReason
from baton.suppression.service import SuppressionService
from baton.timeline.service import TimelineService
from baton.triggers.subjects import DynamoSubjectRepository, Subject
from tests.integration.every_table import every_item

CONTACT_ID = "crm-erase-7731"
EMAIL = "anastacia.silveira@example.com"
PHONE = "+5511912345678"
NATIONAL_PHONE = "11912345678"
FIRST_NAME = "Anastacia"
LAST_NAME = "Silveira"
PERSONAL = (CONTACT_ID, EMAIL, PHONE, NATIONAL_PHONE, FIRST_NAME, LAST_NAME)


def _every_item(settings: Settings) -> list[dict[str, Any]]:
    return [item for items in every_item(settings).values() for item in items]


@pytest.fixture
def known_contact(
    contacts: ContactService, consent: ConsentService, timeline: TimelineService
) -> ContactService:
    """A contact with a profile, consent on email and SMS, and a timeline that quotes the address."""
    contacts.upsert(
        CONTACT_ID,
        ContactInput(
            email=EMAIL.upper(),
            phone="(11) 91234-5678",
            country="BR",
            first_name=FIRST_NAME,
            last_name=LAST_NAME,
            locale="pt-BR",
            timezone="America/Sao_Paulo",
            attributes={"nickname": FIRST_NAME, "plan": "gold"},
        ),
    )
    proof = ConsentProof(
        consent_text=f"Eu, {FIRST_NAME}, aceito.", ip="203.0.113.9", user_agent="Mozilla/5.0"
    )
    consent.request(CONTACT_ID, Channel.EMAIL, "news", EMAIL, proof=proof)
    consent.grant(CONTACT_ID, Channel.EMAIL, "news", source=Source.LINK)
    consent.grant(CONTACT_ID, Channel.SMS, "offers", source=Source.KEYWORD, address=PHONE)
    timeline.record(CONTACT_ID, "message.sent", {"to": EMAIL, "subject": f"Olá {FIRST_NAME}"})
    return contacts


def test_given_a_known_contact_when_erased_then_no_table_holds_any_of_its_personal_data(
    known_contact: ContactService, suppression: SuppressionService, aws: Settings
) -> None:
    assert any(EMAIL in json.dumps(item) for item in _every_item(aws))  # the scan does see the data

    known_contact.erase(CONTACT_ID)

    dump = json.dumps(_every_item(aws)).lower()
    for value in PERSONAL:
        assert value.lower() not in dump, value
    assert suppression.hash(Channel.EMAIL, EMAIL) in dump
    assert suppression.hash(Channel.SMS, PHONE) in dump


def test_given_erasure_then_what_was_removed_is_reported(known_contact: ContactService) -> None:
    report = known_contact.erase(CONTACT_ID)

    assert report.contact_removed is True
    assert report.consent_items_removed == 5  # three entries, two states
    assert report.timeline_events_removed == 5  # created, three consent changes, one message
    assert {entry.channel for entry in report.suppressed} == {
        Channel.EMAIL,
        Channel.SMS,
        Channel.VOICE,
        Channel.WHATSAPP,
    }
    assert {entry.reason for entry in report.suppressed} == {SuppressionReason.ERASED}


def test_given_an_erased_contact_when_upserted_again_then_nothing_resubscribes_it(
    known_contact: ContactService, consent: ConsentService, suppression: SuppressionService
) -> None:
    known_contact.erase(CONTACT_ID)

    known_contact.upsert(CONTACT_ID, ContactInput(email=EMAIL, phone=PHONE, first_name=FIRST_NAME))

    assert consent.states(CONTACT_ID) == []
    assert consent.entries(CONTACT_ID) == []
    email = suppression.check(Channel.EMAIL, EMAIL.upper())
    sms = suppression.check(Channel.SMS, "+55 (11) 91234-5678")
    assert email is not None
    assert email.reason == SuppressionReason.ERASED
    assert sms is not None
    assert sms.reason == SuppressionReason.ERASED


def test_given_an_erased_contact_when_erased_again_then_it_succeeds_removing_nothing(
    known_contact: ContactService,
) -> None:
    known_contact.erase(CONTACT_ID)

    again = known_contact.erase(CONTACT_ID)

    assert (again.contact_removed, again.consent_items_removed, again.timeline_events_removed) == (
        False,
        0,
        0,
    )


def test_erasure_leaves_other_contacts_alone(
    known_contact: ContactService, consent: ConsentService, timeline: TimelineService
) -> None:
    known_contact.upsert("crm-other", ContactInput(email="other@example.com"))
    consent.request("crm-other", Channel.EMAIL, "news", "other@example.com")

    known_contact.erase(CONTACT_ID)

    assert known_contact.get("crm-other").email == "other@example.com"
    assert len(consent.entries("crm-other")) == 1
    assert len(timeline.page("crm-other").items) == 2


def test_given_journeys_started_for_a_contact_when_erased_then_whom_they_were_about_is_forgotten(
    known_contact: ContactService, aws: Settings
) -> None:
    bootstrap.reset()
    services = bootstrap.services()
    subjects = DynamoSubjectRepository(aws.subjects_table)
    names = [f"support-follow-up-{n}" for n in range(3)]
    for name in names:
        data: dict[str, JsonValue] = {"message": f"My order for {FIRST_NAME} is late", "email": EMAIL}
        subjects.add(
            Subject(
                execution_name=name,
                contact_id=CONTACT_ID,
                journey="support-follow-up",
                event_type="support.request_created",
                data=data,
            )
        )
    subjects.add(Subject(execution_name="welcome-other", contact_id="crm-other", journey="w", event_type="x"))

    erased = privacy.erase_contact(services, CONTACT_ID)

    assert erased.subjects_removed == 3
    assert [subjects.get(name) for name in names] == [None, None, None]
    assert subjects.get("welcome-other") is not None
    dump = json.dumps(_every_item(aws)).lower()
    for value in (*PERSONAL, "my order for"):
        assert value.lower() not in dump, value
    bootstrap.reset()
