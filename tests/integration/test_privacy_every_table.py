"""Access and erasure against every table (R-GDPR-5, R-LGPD-2), on a contact with a whole history.

On the embedded AWS, moto's executing Step Functions runs compiled journeys whose tasks call the
real JourneyStepFunction handler, started by the real event service: a marketing email (a cap
count and a send-ledger entry) followed by a hand-off task, an SMS waiting for its delivery
receipt, and a wait for an event; plus consent and a timeline that quote the addresses. The
export shows every table that holds something on the contact; after erasure, no table a
deployment names (every `Settings` field ending `_table`) holds the contact's id, address,
number or names in any form, except the salted hashes that keep the person suppressed, no
dead-letter queue (every `Settings` field ending `_dead_letter_queue`) keeps a message about
them while another person's stays, and no log line written meanwhile holds them either.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from baton import bootstrap, privacy
from baton.consent.models import ConsentProof
from baton.consent.vocabulary import Channel, Source
from baton.contacts.models import ContactInput
from baton.handlers import bus_events, feedback, journey_step, sms_inbound
from baton.settings import dead_letter_queue_fields, table_fields
from baton.triggers import wiring
from baton.triggers.models import EventIn
from tests.approvals import write_catalog
from tests.integration.every_table import every_dead_letter, every_item
from tests.integration.journeys import REGION, JourneysOnMoto, lambda_context, serve_catalog
from tests.log_lines import every_log_line

EVENTS = Path(__file__).resolve().parents[1] / "events"
CONTACT_ID = "crm-privacy-4410"
EMAIL = "Quiteria.Mendes@Example.com"
PHONE_TYPED = "(11) 98765-4321"
PHONE = "+5511987654321"
FIRST_NAME = "Quiteria"
LAST_NAME = "Mendes"
SHIP_TO = "Rua das Palmeiras 88, Moema"
CART_NOTE = "Quiteria left a blue kettle in her cart"
# Every form the contact's id, address, number and names may take in a table or a log line.
PERSONAL = (
    CONTACT_ID,
    EMAIL,
    EMAIL.lower(),
    PHONE,
    PHONE.removeprefix("+"),
    PHONE.removeprefix("+55"),
    PHONE_TYPED,
    "98765-4321",
    FIRST_NAME,
    LAST_NAME,
    SHIP_TO,
    CART_NOTE,
)

_MARKETING = """\
owner: growth@example.com
purpose: marketing
"""
_TRANSACTIONAL = """\
owner: ops@example.com
purpose: transactional
"""
_REVIEW = "review_by: 2027-03-01\n"
CATALOG = {
    "promo.yaml": f"""\
journey: promo
{_MARKETING}topic: news
{_REVIEW}trigger: {{event: cart.abandoned}}
steps:
  - id: offer
    send: {{template: offer, channels: [email]}}
  - id: call
    handoff: {{queue: sales-reps, sla: 1d, on_timeout: end}}
""",
    "notice.yaml": f"""\
journey: notice
{_TRANSACTIONAL}{_REVIEW}trigger: {{event: order.shipped}}
steps:
  - id: tell
    send: {{template: notice, channels: [sms], confirm_delivery: 10m}}
""",
    "survey.yaml": f"""\
journey: survey
{_TRANSACTIONAL}{_REVIEW}trigger: {{event: ticket.closed}}
steps:
  - id: answered
    wait: {{event: survey.answered, timeout: 1d}}
  - id: thanks
    send: {{template: notice, channels: [sms]}}
""",
    "templates/offer.yaml": f"""\
template: offer
{_MARKETING}approved_by: legal@example.com
locales:
  en:
    email:
      subject: "{{{{ contact.first_name }}}}, your cart"
      html: >-
        <p>{{{{ event.note }}}}</p><a href='{{{{ unsubscribe_url }}}}'>Unsubscribe</a>
        {{{{ postal_address }}}}
      text: "{{{{ event.note }}}} Unsubscribe: {{{{ unsubscribe_url }}}} {{{{ postal_address }}}}"
""",
    "templates/notice.yaml": f"""\
template: notice
{_TRANSACTIONAL}locales:
  en:
    sms: {{text: "Shipped to {{{{ event.ship_to }}}}."}}
""",
}


@pytest.fixture
def journeys(
    journeys_on_moto: JourneysOnMoto, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[JourneysOnMoto]:
    write_catalog(tmp_path, CATALOG)
    serve_catalog(monkeypatch, tmp_path)
    journeys_on_moto.deploy(tmp_path, journey_step.handler)
    yield journeys_on_moto
    bootstrap.reset()
    wiring.catalog.cache_clear()


def _event(event_type: str, data: dict[str, Any], key: str) -> list[str]:
    events = wiring.event_service(bootstrap.services(), lambda_context("Baton-EventsFunction"))
    accepted = events.record(EventIn(contact_id=CONTACT_ID, type=event_type, data=data, idempotency_key=key))
    return accepted.journeys_started


def _a_whole_history() -> None:
    """The contact's profile, consent, messages, a hand-off, a receipt wait and an event wait."""
    services = bootstrap.services()
    services.contacts.upsert(
        CONTACT_ID,
        ContactInput(
            email=EMAIL,
            phone=PHONE_TYPED,
            country="BR",
            first_name=FIRST_NAME,
            last_name=LAST_NAME,
            timezone="America/Sao_Paulo",
            attributes={"nickname": FIRST_NAME},
        ),
    )
    proof = ConsentProof(
        consent_text=f"Eu, {FIRST_NAME}, aceito.", ip="203.0.113.7", user_agent="Mozilla/5.0"
    )
    services.consent.request(CONTACT_ID, Channel.EMAIL, "news", EMAIL, proof=proof)
    services.consent.grant(CONTACT_ID, Channel.EMAIL, "news", source=Source.LINK)
    services.consent.grant(CONTACT_ID, Channel.SMS, "news", source=Source.KEYWORD, address=PHONE)
    # Callers put personal data in idempotency keys and event data too.
    assert _event("cart.abandoned", {"note": CART_NOTE, "email": EMAIL}, f"cart-{EMAIL}") == ["promo"]
    assert _event("order.shipped", {"ship_to": SHIP_TO, "phone": PHONE}, f"ship-{PHONE}") == ["notice"]
    assert _event("ticket.closed", {"customer": f"{FIRST_NAME} {LAST_NAME}"}, "ticket-1") == ["survey"]
    _text("AJUDA")  # HELP, answered by SMS: inbound and reply records on the idempotency table


def _text(body: str) -> None:
    event: dict[str, Any] = json.loads((EVENTS / "sns_inbound_sms.json").read_text())
    sns = event["Records"][0]["Sns"]
    message = json.loads(sns["Message"]) | {"originationNumber": PHONE, "messageBody": body}
    sns["Message"] = json.dumps(message | {"messageKeyword": body, "inboundMessageId": f"in-{body}"})
    sms_inbound.handler(event, lambda_context("Baton-SmsInboundFunction"))


def _receipt(provider_message_id: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / "eum_sms_delivered.json").read_text())
    event["detail"]["messageId"] = provider_message_id
    answer: dict[str, Any] = feedback.handler(event, lambda_context("Baton-FeedbackFunction"))
    return answer


def _sms_event(number: str, text: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / "sns_inbound_sms.json").read_text())
    sns = event["Records"][0]["Sns"]
    message = json.loads(sns["Message"]) | {"originationNumber": number, "messageBody": text}
    sns["Message"] = json.dumps(message)
    return event


def _bounce(address: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / "ses_bounce.json").read_text())
    event["detail"]["bounce"]["bouncedRecipients"][0]["emailAddress"] = address
    event["detail"]["mail"]["destination"] = [address]
    return event


def _baton_event(contact_id: str, data: dict[str, Any]) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / "eventbridge_baton_event.json").read_text())
    event["detail"] |= {"contact_id": contact_id, "data": data}
    return event


# What AWS writes into each dead-letter queue when a delivery fails for good: the whole event.
# Per queue: one about the contact, one about someone else (a near id, address or number).
DEAD_LETTERS = {
    "sms_inbound_dead_letter_queue": (
        _sms_event(PHONE, f"{FIRST_NAME} aqui, STOP"),
        _sms_event("+5511987654329", "PARAR"),
    ),
    "feedback_dead_letter_queue": (_bounce(EMAIL), _bounce(f"a{EMAIL.lower()}")),
    "events_dead_letter_queue": (
        _baton_event(CONTACT_ID, {"note": CART_NOTE}),
        _baton_event(f"{CONTACT_ID}0", {"note": "a kettle"}),
    ),
}


def _dead_letters() -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    settings = bootstrap.services().settings
    for field, events in DEAD_LETTERS.items():
        for event in events:
            sqs.send_message(QueueUrl=getattr(settings, field), MessageBody=json.dumps(event))


def _holding_the_contact(items: list[dict[str, Any]]) -> bool:
    text = json.dumps(items).lower()
    return any(value.lower() in text for value in (CONTACT_ID, EMAIL, PHONE))


def test_r_lgpd_2_the_export_holds_what_every_table_keeps_on_the_contact(journeys: JourneysOnMoto) -> None:
    _a_whole_history()
    services = bootstrap.services()

    export = privacy.export_contact(services, CONTACT_ID).model_dump(mode="json")

    holding = [field for field, items in every_item(services.settings).items() if _holding_the_contact(items)]
    assert set(holding) >= {
        "contacts_table",
        "consent_table",
        "timeline_table",
        "idempotency_table",
        "runs_table",
        "tasks_table",
        "waits_table",
        "receipts_table",
        "caps_table",
        "subjects_table",
    }
    for field in holding:
        shown = privacy.TABLE_COVERAGE[field].exported_as
        assert shown is not None, f"{field} holds the contact but the export shows none of it"
        assert export[shown], f"{field} holds the contact but the export's {shown} is empty"
    assert export["profile"]["email"] == EMAIL.lower()
    assert {run["journey"] for run in export["journey_runs"]} == {"promo", "notice", "survey"}
    assert {subject["data"].get("ship_to") for subject in export["subjects"]} >= {SHIP_TO}
    assert [(task["queue"], task["status"]) for task in export["tasks"]] == [("sales-reps", "open")]
    assert [(wait["journey"], wait["event_type"]) for wait in export["waits"]] == [
        ("survey", "survey.answered")
    ]
    assert [(wait["journey"], wait["channel"]) for wait in export["receipt_waits"]] == [("notice", "sms")]
    assert [(count["purpose"], len(count["sends"])) for count in export["cap_counts"]] == [("marketing", 1)]
    assert {record["data"]["journey"] for record in export["send_ledger"]} == {"promo", "notice"}
    # Task tokens are Baton's means to resume an execution, not something held about the person.
    assert "token" not in json.dumps([export["waits"], export["receipt_waits"], export["tasks"]])


def test_r_gdpr_5_after_erasure_no_table_and_no_log_line_holds_the_contact(journeys: JourneysOnMoto) -> None:
    with every_log_line() as logged:
        _a_whole_history()
        services = bootstrap.services()
        before = every_item(services.settings)
        assert all(_holding_the_contact(before[field]) for field in ("idempotency_table", "caps_table"))
        _dead_letters()

        (waiting,) = privacy.export_contact(services, CONTACT_ID).receipt_waits

        erased = privacy.erase_contact(services, CONTACT_ID)
        # The carrier's receipt for the erased contact's text comes in late: it writes nobody back.
        assert _receipt(waiting.provider_message_id)["receipts"] == 1

    after = every_item(services.settings)
    assert sorted(after) == table_fields()
    left = {
        field: [value for value in PERSONAL if value.lower() in json.dumps(items).lower()]
        for field, items in after.items()
    }
    assert {field: values for field, values in left.items() if values} == {}
    suppression = json.dumps(after["suppression_table"])
    assert services.suppression.hash(Channel.EMAIL, EMAIL) in suppression
    assert services.suppression.hash(Channel.SMS, PHONE) in suppression
    assert (erased.journey_runs_stopped, erased.journey_runs_removed, erased.subjects_removed) == (3, 3, 3)
    assert (erased.tasks_removed, erased.waits_removed, erased.receipts_removed) == (1, 1, 1)
    assert (erased.cap_counts_removed, erased.send_ledger_removed) == (1, 2)
    # Only the other person's message is left in each queue, visible again at once.
    assert sorted(DEAD_LETTERS) == dead_letter_queue_fields()
    others = {field: [json.dumps(events[1])] for field, events in DEAD_LETTERS.items()}
    assert every_dead_letter(services.settings) == others
    assert erased.dead_letters_removed == dict.fromkeys(DEAD_LETTERS, 1)
    assert erased.dead_letter_queues_unread == []
    lines = logged.getvalue()
    assert "Inbound SMS handled" in lines  # the capture saw Baton's own lines
    leaking = [line for line in lines.splitlines() if any(v.lower() in line.lower() for v in PERSONAL)]
    assert leaking == []


def _bus_event(detail: dict[str, Any]) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / "eventbridge_baton_event.json").read_text())
    return event | {"detail": detail}


def _inbound_without_id(body: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / "sns_inbound_sms.json").read_text())
    sns = event["Records"][0]["Sns"]
    message = json.loads(sns["Message"]) | {"originationNumber": PHONE, "messageBody": body}
    sns["Message"] = json.dumps(message | {"inboundMessageId": 7})  # not a string: it cannot parse
    return event


def test_r_gdpr_5_what_a_failed_event_leaves_on_a_dead_letter_queue_names_the_contact_by_id_only(
    journeys: JourneysOnMoto,
) -> None:
    # A failed asynchronous invocation lands on its function's dead-letter queue with the error's
    # type and text as message attributes (ErrorCode, ErrorMessage): Baton's words, kept 14 days.
    _a_whole_history()
    privacy.erase_contact(bootstrap.services(), CONTACT_ID)
    about = {"contact_id": CONTACT_ID, "data": {"email": EMAIL, "phone": PHONE}}
    failing = [
        (bus_events.handler, _bus_event(about | {"idempotency_key": f"late-{EMAIL}"})),  # erased
        (bus_events.handler, _bus_event(about)),  # no idempotency key
        (sms_inbound.handler, _inbound_without_id(f"{FIRST_NAME} aqui, liga {PHONE} ou {EMAIL}")),
    ]

    errors = []
    for handler, event in failing:
        with pytest.raises(Exception) as raised:  # noqa: PT011 (each fails its own way)
            handler(event, lambda_context("Baton-EventsFunction"))
        errors.append(f"{type(raised.value).__name__}: {raised.value}")

    assert [error.split(":", 1)[0] for error in errors] == [
        "ContactNotFound",
        "ValidationError",
        "ValidationError",
    ]
    addresses = [value for value in PERSONAL if value != CONTACT_ID]
    quoted = [value for value in addresses if any(value.lower() in error.lower() for error in errors)]
    assert quoted == []
    assert CONTACT_ID in errors[0]  # an id: what a redrive needs to find the contact again
