"""`POST /_local/ses-event`: an SES event reaches FeedbackFunction in-process, as
the default bus's rule would bring it; a bounce lands on the contact's timeline, and an open
or a click of a journey's email is counted in the journey's figures."""

from __future__ import annotations

from collections import Counter
from typing import Any
from urllib.parse import urlencode

import pytest

from infra.http_client import LocalClient

pytestmark = pytest.mark.e2e


def test_a_local_hard_bounce_is_on_the_contacts_timeline(api: LocalClient) -> None:
    assert api.put("/v1/contacts/c-ses-1", json_body={"email": "bounce-me@example.com"}).status in (200, 201)

    resp = api.post(
        "/_local/ses-event",
        json_body={"type": "bounce", "message_id": "local-ses-1", "to": "bounce-me@example.com"},
    )

    assert resp.status == 202
    assert resp.json()["detail-type"] == "Email Bounced"
    timeline = api.get("/v1/contacts/c-ses-1/timeline").json()
    receipts = [item for item in timeline["items"] if item["kind"] == "delivery.event"]
    assert [(r["detail"]["status"], r["detail"]["provider_message_id"]) for r in receipts] == [
        ("bounced", "local-ses-1")
    ]


def test_a_local_ses_event_without_a_message_id_is_422_naming_it(api: LocalClient) -> None:
    resp = api.post("/_local/ses-event", json_body={"type": "bounce"})

    assert resp.status == 422
    fields = {d["field"] for d in resp.json()["error"]["details"]}
    assert "message_id" in fields


def _figures(api: LocalClient, journey: str, day: str) -> dict[str, Any]:
    answer = api.get(f"/v1/journeys/{journey}/figures?{urlencode({'from': day, 'to': day})}")
    assert answer.status == 200, answer.text
    figures: dict[str, Any] = answer.json()
    return figures


def _added(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {name: amount for name, amount in (Counter(after) - Counter(before)).items() if amount}


def test_an_open_and_a_click_of_a_journeys_email_are_counted_in_its_figures_with_tracking_off(
    api: LocalClient, synthesized_template: dict[str, Any]
) -> None:
    # given this stack's configuration set publishes no opens or clicks (tracking off)...
    (destination,) = [
        r["Properties"]["EventDestination"]
        for r in synthesized_template["Resources"].values()
        if r["Type"] == "AWS::SES::ConfigurationSetEventDestination"
    ]
    assert not {"open", "click"} & set(destination["MatchingEventTypes"])
    # ...and a customer with an email address only, whose order shipped (the journey emails them)
    to = "ses-open@example.com"
    assert api.put("/v1/contacts/c-ses-open", json_body={"email": to, "first_name": "Lia"}).status in (
        200,
        201,
    )
    body = {
        "contact_id": "c-ses-open",
        "type": "order.shipped",
        "data": {"order_id": "O-7", "tracking_url": "https://t.example/7"},
        "idempotency_key": "ses-open-ship-1",
    }
    assert api.post("/v1/events", json_body=body).json()["journeys_started"] == ["order-shipped"]
    (sent,) = api.get(f"/_local/outbox?{urlencode({'to': to})}").json()
    day = str(api.get("/_local/clock").json()["now"])[:10]
    before = _figures(api, "order-shipped", day)
    mail = {
        "timestamp": sent["sent_at"],
        "messageId": sent["message_id"],
        "destination": [to],
        "tags": {"journey": ["order-shipped"], "step": ["notify"]},
    }

    # when SES reports that they opened it (an SES event record, as SES publishes it), then
    # clicked in it (the shorthand)
    opened = api.post(
        "/_local/ses-event",
        json_body={"eventType": "Open", "mail": mail, "open": {"timestamp": sent["sent_at"]}},
    )
    clicked = api.post(
        "/_local/ses-event",
        json_body={
            "type": "click",
            "message_id": sent["message_id"],
            "tags": {"journey": "order-shipped", "step": "notify"},
        },
    )

    # then both reached the feedback function as SES's EventBridge events
    assert (opened.status, opened.json()["detail-type"]) == (202, "Email Opened")
    assert (clicked.status, clicked.json()["detail-type"]) == (202, "Email Clicked")
    # and the journey's figures count the open and the click on email, at the step that sent it
    after = _figures(api, "order-shipped", day)
    assert _added(before["totals"], after["totals"]) == {"opened": 1, "clicked": 1}
    assert _added(before["channels"]["email"], after["channels"]["email"]) == {"opened": 1, "clicked": 1}
    # and the contact's timeline shows them
    timeline = api.get("/v1/contacts/c-ses-open/timeline").json()
    receipts = [item["detail"]["status"] for item in timeline["items"] if item["kind"] == "delivery.event"]
    assert receipts == ["clicked", "opened"]


def test_a_local_ses_event_with_tags_that_are_not_strings_is_422_naming_them(api: LocalClient) -> None:
    resp = api.post(
        "/_local/ses-event",
        json_body={"type": "open", "message_id": "local-ses-2", "to": "x@example.com", "tags": {"step": 1}},
    )

    assert resp.status == 422
    assert {d["field"] for d in resp.json()["error"]["details"]} == {"tags"}
