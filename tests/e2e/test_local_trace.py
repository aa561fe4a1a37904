"""Tracing over the local stack's HTTP API: the sample `order-shipped` journey sends a text, and
its provider id (the outbox's) and Baton's id (on the timeline) both lead back to the journey,
step, template, owners and the event that triggered it; the text itself, pasted in part, leads
to the template by GET and by POST."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest

from infra.http_client import LocalClient

pytestmark = pytest.mark.e2e

PHONE = "+12065550143"


def _shipped(api: LocalClient) -> dict[str, Any]:
    resp = api.put("/v1/contacts/trace-1", json_body={"phone": PHONE, "first_name": "Iris", "locale": "en"})
    assert resp.status in (200, 201), resp.text
    resp = api.post(
        "/v1/events",
        json_body={
            "contact_id": "trace-1",
            "type": "order.shipped",
            "data": {"order_id": "T-5521", "tracking_url": "https://track.example/T-5521"},
            "idempotency_key": "shipped-T-5521",
        },
    )
    assert resp.status == 202, resp.text
    (text,) = api.get(f"/_local/outbox?{urlencode({'to': PHONE})}").json()
    return dict(text)


def test_a_sent_text_is_traced_by_its_ids_and_by_its_words(api: LocalClient) -> None:
    text = _shipped(api)
    timeline = api.get("/v1/contacts/trace-1/timeline").json()["items"]
    (sent,) = [event for event in timeline if event["kind"] == "message.sent"]

    by_provider = api.get(f"/v1/messages/{text['message_id']}")
    by_baton = api.get(f"/v1/messages/{sent['detail']['message_id']}")

    assert by_provider.status == by_baton.status == 200, (by_provider.text, by_baton.text)
    assert by_provider.json() == by_baton.json()
    trace = by_baton.json()
    assert (trace["journey"], trace["step"], trace["template"], trace["contact_id"]) == (
        "order-shipped",
        "notify",
        "order-shipped",
        "trace-1",
    )
    assert trace["provider_message_id"] == text["message_id"]
    assert trace["owners"] == {"journey": "ops@example.com", "template": "ops@example.com"}
    assert (trace["trigger"]["event_type"], trace["trigger"]["event_id"]) == (
        "order.shipped",
        "shipped-T-5521",
    )

    fragment = text["body"][10:70]
    by_get = api.get(f"/v1/messages?{urlencode({'text': fragment})}")
    by_post = api.post("/v1/messages/search", json_body={"text": fragment})
    assert by_get.status == by_post.status == 200
    assert by_get.json() == by_post.json()
    best = by_post.json()["matches"][0]
    assert (best["template"], best["locale"], best["channel"]) == ("order-shipped", "en", "sms")
    assert {"journey": "order-shipped", "step": "notify"} in best["used_by"]


def test_an_id_no_message_has_is_404(api: LocalClient) -> None:
    resp = api.get("/v1/messages/no-such-message-id")
    assert resp.status == 404
    assert resp.json()["error"]["code"] == "not_found"
