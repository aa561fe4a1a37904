"""Approval is checked again at send time: a marketing template whose deployed content is not the
content legal approved reaches nobody, while the rest of the catalog goes on sending.

On the embedded AWS, compiled journeys run in moto's Step Functions with the real
JourneyStepFunction handler, started by the real event service. The catalog is approved and
deployed; then the marketing template's words change under the function (content that reached
it without passing synth), and a journey that sends it is started."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends
from moto.sns.models import sns_backends

from baton import bootstrap
from baton.consent.models import ConsentProof
from baton.consent.vocabulary import Channel, Source
from baton.contacts.models import ContactInput
from baton.handlers import journey_step
from baton.journeys.approvals import read_approvals
from baton.triggers import wiring
from baton.triggers.models import EventIn
from tests.approvals import write_catalog
from tests.integration.journeys import REGION, JourneysOnMoto, lambda_context, serve_catalog

CONTACT_ID = "c-approval"
EMAIL = "ana@example.com"
PHONE = "+12125550100"

CATALOG = {
    "promo.yaml": """\
journey: promo
owner: growth@example.com
purpose: marketing
topic: news
review_by: 2027-03-01
trigger: {event: cart.abandoned}
steps:
  - id: offer
    send: {template: offer, channels: [sms, email]}
""",
    "notice.yaml": """\
journey: notice
owner: ops@example.com
purpose: transactional
review_by: 2027-03-01
trigger: {event: order.shipped}
steps:
  - id: tell
    send: {template: shipped, channels: [email]}
""",
    "templates/offer.yaml": """\
template: offer
owner: growth@example.com
purpose: marketing
approved_by: legal@example.com
locales:
  en:
    sms: {text: "{{ brand }}: 10% off your cart today. Reply STOP to opt out."}
    email:
      subject: "10% off your cart"
      html: "<p>10% off.</p><a href='{{ unsubscribe_url }}'>Unsubscribe</a> {{ postal_address }}"
      text: "10% off. Unsubscribe: {{ unsubscribe_url }} {{ postal_address }}"
""",
    "templates/shipped.yaml": """\
template: shipped
owner: ops@example.com
purpose: transactional
locales:
  en:
    email: {subject: "Shipped", text: "Your order {{ event.order_id }} has shipped."}
""",
}


@pytest.fixture
def catalog(
    journeys_on_moto: JourneysOnMoto, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    write_catalog(tmp_path, CATALOG)
    monkeypatch.setenv("BATON_PUBLIC_BASE_URL", "https://baton.example.com")
    serve_catalog(monkeypatch, tmp_path)
    journeys_on_moto.deploy(tmp_path, journey_step.handler)  # approved: it deploys
    yield tmp_path
    bootstrap.reset()
    wiring.catalog.cache_clear()


def _consenting_contact() -> None:
    services = bootstrap.services()
    services.contacts.upsert(
        CONTACT_ID,
        ContactInput(email=EMAIL, phone=PHONE, country="US", timezone="America/New_York", first_name="Ana"),
    )
    proof = ConsentProof(consent_text="Yes, send me news.", ip="203.0.113.7", user_agent="Mozilla/5.0")
    services.consent.request(CONTACT_ID, Channel.EMAIL, "news", EMAIL, proof=proof)
    services.consent.grant(CONTACT_ID, Channel.EMAIL, "news", source=Source.LINK)
    services.consent.grant(CONTACT_ID, Channel.SMS, "news", source=Source.KEYWORD, address=PHONE)


def _event(event_type: str, data: dict[str, Any], key: str) -> list[str]:
    events = wiring.event_service(bootstrap.services(), lambda_context("Baton-EventsFunction"))
    accepted = events.record(EventIn(contact_id=CONTACT_ID, type=event_type, data=data, idempotency_key=key))
    return accepted.journeys_started


def _emails() -> list[Any]:
    return list(ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages)


def _texts() -> list[Any]:
    return list(sns_backends[DEFAULT_ACCOUNT_ID][REGION].sms_messages.values())


def _timeline(kind: str) -> list[dict[str, Any]]:
    events = bootstrap.services().timeline.all(CONTACT_ID)
    return [dict(event.detail) for event in reversed(events) if event.kind == kind]


def test_r_canspam_3_a_marketing_template_edited_after_approval_reaches_no_customer(catalog: Path) -> None:
    # given a consenting contact, and the offer's words changed after legal approved them
    _consenting_contact()
    offer = catalog / "templates" / "offer.yaml"
    offer.write_text(offer.read_text().replace("10% off", "50% off"), encoding="utf-8")
    wiring.catalog.cache_clear()  # a new cold start reads the changed catalog
    bootstrap.reset()

    # when the journey that sends it is started
    assert _event("cart.abandoned", {"cart": "c-9"}, "cart-1") == ["promo"]

    # then nothing is sent on either channel, each refusal is on the timeline with its reason
    assert _emails() == []
    assert _texts() == []
    refused = _timeline("message.refused")
    assert [(r["channel"], r["reason"], r["rule"]) for r in refused] == [
        ("sms", "not_approved", "R-CANSPAM-3"),
        ("email", "not_approved", "R-CANSPAM-3"),
    ]
    approved = read_approvals(catalog / "approvals.yaml").entries["offer"]["en"]
    assert all(r["content"].startswith("sha256:") for r in refused)
    assert {r["content"] for r in refused}.isdisjoint({a.content for a in approved.values()})
    (ended,) = _timeline("journey.ended")
    assert (ended["outcome"], ended["reason"]) == ("skipped", "not_approved")
    assert _timeline("message.sent") == []


def test_one_changed_template_leaves_the_rest_of_the_catalog_sending_with_its_content_on_record(
    catalog: Path,
) -> None:
    # given the offer changed after approval, and the transactional notice untouched
    _consenting_contact()
    offer = catalog / "templates" / "offer.yaml"
    offer.write_text(offer.read_text().replace("10% off", "50% off"), encoding="utf-8")
    wiring.catalog.cache_clear()
    bootstrap.reset()

    # when an order ships
    assert _event("order.shipped", {"order_id": "A-7"}, "ship-1") == ["notice"]

    # then its email goes out, and message.sent names the content version it carried
    assert len(_emails()) == 1
    (sent,) = _timeline("message.sent")
    shipped = bootstrap.services().settings  # the catalog the function loaded
    loaded = wiring.catalog(shipped.journeys_dir, shipped.sms_max_parts, tuple(shipped.locales))
    assert sent["content"] == loaded.approvals.of(loaded.templates["shipped"], "en", "email").content
