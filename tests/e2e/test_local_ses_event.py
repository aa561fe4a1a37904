"""`POST /_local/ses-event`: an SES event reaches FeedbackFunction in-process, as
the default bus's rule would bring it; a bounce lands on the contact's timeline."""

from __future__ import annotations

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
