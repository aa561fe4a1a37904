"""Campaigns on `baton local` over HTTP: a run of the sample `gold-monthly` journey over the
`gold-customers` segment goes through the synthesized campaign state machine (the audience
snapshot, the Distributed Map's batches, the finish) and sends each consented gold buyer one
email; a run for later is paused, resumed and cancelled while the virtual clock moves."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

from baton.clock import from_iso, to_iso
from infra.http_client import LocalClient

pytestmark = pytest.mark.e2e

PROOF = {
    "note": "opted in at the shop's checkout",
    "actor": "crm-sync",
    "text_version": "checkout-v2",
    "obtained_at": "2026-01-05T10:00:00Z",
}


def _gold(api: LocalClient, contact_id: str, *, consent: bool = True) -> str:
    email = f"{contact_id}@example.com"
    body = {"email": email, "first_name": "Ana", "attributes": {"tier": "gold", "bought_this_year": True}}
    assert api.put(f"/v1/contacts/{contact_id}", json_body=body).status in (200, 201)
    if consent:
        grant = {
            "channel": "email",
            "topic": "offers",
            "status": "granted",
            "basis": "express",
            "proof": PROOF,
        }
        assert api.post(f"/v1/contacts/{contact_id}/consents", json_body=grant).status == 201
    return email


def _outbox(api: LocalClient, to: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = api.get(f"/_local/outbox?{urlencode({'to': to})}").json()
    return messages


def _in(api: LocalClient, *, minutes: int) -> str:
    """A time `minutes` after the local stack's virtual now."""
    return to_iso(from_iso(api.get("/_local/clock").json()["now"]) + timedelta(minutes=minutes))


def _start(api: LocalClient, **extra: str) -> dict[str, Any]:
    answer = api.post(
        "/v1/campaigns", json_body={"journey": "gold-monthly", "segment": "gold-customers", **extra}
    )
    assert answer.status == 202, answer.text
    started: dict[str, Any] = answer.json()
    return started


def test_a_campaign_sends_each_consented_contact_of_the_segment_one_email(api: LocalClient) -> None:
    consented = [_gold(api, f"e2e-cmp-{n}") for n in range(3)]
    unconsented = _gold(api, "e2e-cmp-none", consent=False)

    started = _start(api)

    assert started["path"] == "batch"
    view = api.get(f"/v1/campaigns/{started['run_id']}").json()
    assert view["status"] == "completed", view
    assert view["audience"] >= 4
    assert view["remaining"] == 0
    assert view["skipped_by_reason"].get("no_consent", 0) >= 1
    assert all(len(_outbox(api, email)) == 1 for email in consented)
    assert _outbox(api, unconsented) == []
    again = api.post("/v1/campaigns", json_body={"journey": "gold-monthly", "segment": "no-such-segment"})
    assert again.status == 422


@pytest.mark.moves_session_clock
def test_a_run_for_later_is_paused_resumed_and_sends_once(api: LocalClient) -> None:
    email = _gold(api, "e2e-cmp-later")
    run_id = _start(api, at=_in(api, minutes=5))["run_id"]
    assert api.get(f"/v1/campaigns/{run_id}").json()["status"] == "scheduled"
    paused = api.post(f"/v1/campaigns/{run_id}/pause")
    assert paused.status == 200, paused.text

    assert api.post("/_local/clock", json_body={"advance": "10m"}).status == 200
    view = api.get(f"/v1/campaigns/{run_id}").json()
    assert view["status"] == "paused"
    assert _outbox(api, email) == []  # its batches wait, asking again every minute

    assert api.post(f"/v1/campaigns/{run_id}/resume").json()["status"] == "running"
    assert api.post("/_local/clock", json_body={"advance": "2m"}).status == 200
    view = api.get(f"/v1/campaigns/{run_id}").json()
    assert view["status"] == "completed", view
    assert len(_outbox(api, email)) == 1


@pytest.mark.moves_session_clock
def test_a_cancelled_run_for_later_sends_nothing(api: LocalClient) -> None:
    email = _gold(api, "e2e-cmp-cancelled")
    before = len(_outbox(api, email))
    run_id = _start(api, at=_in(api, minutes=5))["run_id"]

    cancelled = api.post(f"/v1/campaigns/{run_id}/cancel").json()
    assert cancelled["status"] == "cancelled"
    assert api.post("/_local/clock", json_body={"advance": "1h"}).status == 200

    assert api.get(f"/v1/campaigns/{run_id}").json()["status"] == "cancelled"
    assert len(_outbox(api, email)) == before
