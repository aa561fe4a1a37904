"""Tracing on moto: a journey's send (started by `POST /v1/events`, run by the compiled state
machine and the real JourneyStepFunction) and a campaign batch's send are found through the
private API by the provider's message id and by Baton's, back to journey, step, template,
owners and trigger; once the contact is erased, neither id finds anything."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest

from baton import bootstrap
from baton.campaigns.batch import BatchRequest
from baton.campaigns.models import CampaignRun, CampaignStatus
from baton.campaigns.runs import DynamoCampaignRuns
from baton.campaigns.wiring import campaign_batch
from baton.clock import FixedClock, use_clock
from baton.consent.vocabulary import Basis, Channel, Source
from baton.contacts.models import ContactInput
from baton.handlers import journey_step
from baton.journeys.paths import Path as RunPath
from baton.settings import Settings
from baton.timeline.models import TimelineEvent
from baton.triggers import wiring
from tests.approvals import APPROVED_AT, APPROVER, write_catalog
from tests.integration.handler_calls import private_call
from tests.integration.journeys import REGION, JourneysOnMoto, serve_catalog

PHONE = "+14155550100"
JOURNEY = """\
journey: parcel-news
owner: ops@example.com
purpose: transactional
review_by: 2027-03-01
trigger: {event: order.shipped}
steps:
  - id: tell
    send: {template: parcel-note, channels: [sms, email]}
"""
SALE = """\
journey: spring-sale
owner: growth@example.com
purpose: marketing
topic: news
review_by: 2027-03-01
trigger: {event: campaign.spring}
steps:
  - id: note
    send: {template: sale-note, channels: [email]}
"""
PARCEL_NOTE = """\
template: parcel-note
owner: parcels@example.com
purpose: transactional
approved_by: counsel@example.com
locales:
  en:
    sms: {text: "Your parcel {{ event.order_id }} is on its way to you, track it in the app."}
    email: {subject: "On its way", text: "Your parcel {{ event.order_id }} is on its way."}
"""
SALE_NOTE = """\
template: sale-note
owner: brand@example.com
purpose: marketing
approved_by: legal@example.com
locales:
  en:
    email:
      subject: "Twenty percent off all week"
      html: >-
        <p>All week long.</p><p><a href="{{ unsubscribe_url }}">Stop these</a> {{ postal_address }}</p>
      text: "All week long. Stop these: {{ unsubscribe_url }} Sent by {{ postal_address }}"
"""
SEGMENT = """\
segment: everyone
owner: growth@example.com
when: {attribute: newsletter, equals: true}
"""


def _catalog(root: Path) -> Path:
    """The catalog as legal approved it (`baton approve` of each template as written)."""
    return write_catalog(
        root,
        {
            "parcel-news.yaml": JOURNEY,
            "spring-sale.yaml": SALE,
            "templates/parcel-note.yaml": PARCEL_NOTE,
            "templates/sale-note.yaml": SALE_NOTE,
            "segments/everyone.yaml": SEGMENT,
        },
    )


def _sent(contact_id: str) -> TimelineEvent:
    (sent,) = [e for e in bootstrap.services().timeline.all(contact_id) if e.kind == "message.sent"]
    return sent


@pytest.fixture
def journeys(
    journeys_on_moto: JourneysOnMoto, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[JourneysOnMoto]:
    root = _catalog(tmp_path / "journeys")
    serve_catalog(monkeypatch, root)
    journeys_on_moto.deploy(root, journey_step.handler)
    bootstrap.services().contacts.upsert("ana", ContactInput(email="ana@example.com", phone=PHONE))
    yield journeys_on_moto
    bootstrap.reset()
    wiring.catalog.cache_clear()


def test_a_journey_send_is_traced_by_either_id_to_its_journey_template_owners_and_trigger(
    journeys: JourneysOnMoto,
) -> None:
    status, _ = private_call(
        "POST",
        "/v1/events",
        {
            "contact_id": "ana",
            "type": "order.shipped",
            "data": {"order_id": "A-17"},
            "idempotency_key": "ship-17",
        },
    )
    assert status == 202
    sent = _sent("ana")
    baton_id, provider_id = str(sent.detail["message_id"]), str(sent.detail["provider_message_id"])

    by_provider = private_call("GET", f"/v1/messages/{provider_id}")
    by_baton = private_call("GET", f"/v1/messages/{baton_id}")

    assert by_provider == by_baton
    status, trace = by_baton
    assert status == 200
    assert (trace["contact_id"], trace["journey"], trace["step"], trace["template"], trace["channel"]) == (
        "ana",
        "parcel-news",
        "tell",
        "parcel-note",
        "sms",
    )
    assert (trace["message_id"], trace["provider_message_id"]) == (baton_id, provider_id)
    assert trace["content_current"] is True
    assert trace["owners"] == {"journey": "ops@example.com", "template": "parcels@example.com"}
    # transactional: no content approval needed, the template names its counsel
    assert trace["approval"] == {
        "approved_by": "counsel@example.com",
        "approved_at": None,
        "status": "not_required",
    }
    assert (trace["trigger"]["event_type"], trace["trigger"]["event_id"]) == ("order.shipped", "ship-17")
    assert trace["execution"].endswith(f":{trace['trigger']['execution']}")  # the ARN, the name


def test_an_erased_contacts_messages_are_no_longer_found(journeys: JourneysOnMoto) -> None:
    private_call(
        "POST",
        "/v1/events",
        {
            "contact_id": "ana",
            "type": "order.shipped",
            "data": {"order_id": "A-18"},
            "idempotency_key": "ship-18",
        },
    )
    sent = _sent("ana")
    ids = [str(sent.detail["message_id"]), str(sent.detail["provider_message_id"])]
    assert [private_call("GET", f"/v1/messages/{i}")[0] for i in ids] == [200, 200]

    assert private_call("DELETE", "/v1/contacts/ana")[0] == 202

    answers = [private_call("GET", f"/v1/messages/{i}") for i in ids]
    assert [status for status, _ in answers] == [404, 404]
    assert all(body["error"]["code"] == "not_found" for _, body in answers)
    # The index entries went with the items: nothing on the timeline table names either id.
    table = bootstrap.services().settings.timeline_table
    items = boto3.client("dynamodb", region_name=REGION).scan(TableName=table)["Items"]
    assert not [item for item in items if set(ids) & {v.get("S") for v in item.values()}]


def test_a_text_is_traced_to_the_template_that_printed_it_and_the_journeys_that_use_it(
    journeys: JourneysOnMoto,
) -> None:
    pasted = {"text": "parcel B-2 is on its way to you, track"}
    status, body = private_call("POST", "/v1/messages/search", pasted)
    assert status == 200
    best = body["matches"][0]
    assert (best["template"], best["locale"], best["channel"], best["owner"]) == (
        "parcel-note",
        "en",
        "sms",
        "parcels@example.com",
    )
    assert best["used_by"] == [{"journey": "parcel-news", "step": "tell"}]
    _, refused = private_call("POST", "/v1/messages/search", {"text": "   "})
    assert refused["error"]["details"][0]["field"] == "text"


NOW = datetime(2026, 5, 4, 15, tzinfo=UTC)


@pytest.fixture
def campaign(aws: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[bootstrap.Services]:
    monkeypatch.setenv("BATON_PUBLIC_BASE_URL", "https://baton.example.com")
    use_clock(FixedClock(NOW))
    serve_catalog(monkeypatch, _catalog(tmp_path / "journeys"))
    yield bootstrap.services()
    use_clock(None)
    bootstrap.reset()
    wiring.catalog.cache_clear()


def test_a_campaign_send_is_traced_by_either_id_to_the_campaign_run_that_triggered_it(
    campaign: bootstrap.Services,
) -> None:
    s = campaign
    s.contacts.upsert(
        "c-1",
        ContactInput(
            email="c1@example.com",
            first_name="Bea",
            timezone="America/New_York",
            country="US",
            attributes={"newsletter": True},
        ),
    )
    s.consent.grant(
        "c-1", Channel.EMAIL, "news", source=Source.IMPORT, basis=Basis.EXPRESS, address="c1@example.com"
    )
    DynamoCampaignRuns(s.settings.campaigns_table, boto3.client("dynamodb", region_name=REGION)).create(
        CampaignRun(
            run_id="run-9",
            journey="spring-sale",
            segment="everyone",
            path=RunPath.BATCH,
            status=CampaignStatus.RUNNING,
            created_at=NOW,
            at=NOW,
        )
    )
    campaign_batch(s, lambda: float("inf")).run(BatchRequest("run-9", 0, ["c-1"]))
    sent = _sent("c-1")

    ids = [sent.detail[key] for key in ("message_id", "provider_message_id")]
    answers = [private_call("GET", f"/v1/messages/{message_id}") for message_id in ids]

    assert answers[0] == answers[1]
    status, trace = answers[0]
    assert status == 200
    assert (trace["journey"], trace["step"], trace["template"], trace["channel"]) == (
        "spring-sale",
        "note",
        "sale-note",
        "email",
    )
    assert trace["owners"] == {"journey": "growth@example.com", "template": "brand@example.com"}
    # marketing: the approval on record of the words sent
    assert trace["approval"] == {
        "approved_by": APPROVER,
        "approved_at": APPROVED_AT.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "status": "approved",
    }
    assert trace["content_current"] is True
    # The batch path stores no run: the trigger is the run's `journey.started` entry.
    assert (trace["trigger"]["event_type"], trace["trigger"]["event_id"]) == ("campaign", "campaign:run-9")
