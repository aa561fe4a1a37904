"""Schedule triggers end to end on the session's local stack: the sample
`gold-monthly` (cron(0 9 1 * ? *), segment gold-customers) fires when the virtual clock passes
09:00 UTC on the first of a month, through HTTP, and runs as a campaign over its segment: the
journey for gold buyers only, once per schedule time."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

from baton.campaigns.service import schedule_run_id
from baton.clock import to_iso
from baton.schedules.expressions import next_fire_times
from infra.http_client import LocalClient
from infra.local import LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.moves_session_clock]

PROOF = {
    "note": "opted in at the shop's checkout",
    "actor": "crm-sync",
    "text_version": "checkout-v2",
    "obtained_at": "2026-01-05T10:00:00Z",
}


def _contact(api: LocalClient, contact_id: str, tier: str, locale: str) -> str:
    email = f"{contact_id}@example.com"
    body = {
        "email": email,
        "first_name": contact_id.split("-")[-1].title(),
        "locale": locale,
        "attributes": {"tier": tier, "bought_this_year": True},
    }
    assert api.put(f"/v1/contacts/{contact_id}", json_body=body).status in (200, 201)
    consent = {"channel": "email", "topic": "offers", "status": "granted", "basis": "express", "proof": PROOF}
    resp = api.post(f"/v1/contacts/{contact_id}/consents", json_body=consent)
    assert resp.status == 201, resp.text
    return email


def _outbox(api: LocalClient, to: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = api.get(f"/_local/outbox?{urlencode({'to': to})}").json()
    return messages


def _started(api: LocalClient, contact_id: str) -> list[dict[str, Any]]:
    items = api.get(f"/v1/contacts/{contact_id}/timeline").json()["items"]
    return [item["detail"] for item in items if item["kind"] == "journey.started"]


def _move(api: LocalClient, body: dict[str, str]) -> None:
    resp = api.post("/_local/clock", json_body=body)
    assert resp.status == 200, resp.text


def test_the_clock_fires_the_monthly_schedule_for_the_segment_once(
    local_stack: LocalStack, api: LocalClient
) -> None:
    gold = _contact(api, "sched-gold-ana", "gold", "pt-BR")
    silver = _contact(api, "sched-silver-bo", "silver", "en")
    now = local_stack.clock.now()
    fire = next_fire_times("cron(0 9 1 * ? *)", now, now + timedelta(days=32))[0]

    _move(api, {"to": to_iso(fire - timedelta(minutes=1))})
    assert _started(api, "sched-gold-ana") == []

    _move(api, {"to": to_iso(fire)})
    key = f"campaign:{schedule_run_id('gold-monthly', fire)}"
    assert [(s["journey"], s["idempotency_key"]) for s in _started(api, "sched-gold-ana")] == [
        ("gold-monthly", key)
    ]
    assert _started(api, "sched-silver-bo") == []

    _move(api, {"advance": "1d"})
    (note,) = _outbox(api, gold)
    assert "clientes gold" in note["subject"]  # the contact's locale, pt-BR
    assert _outbox(api, silver) == []
    assert len(_started(api, "sched-gold-ana")) == 1  # one run per schedule time
    assert local_stack.schedules is not None
    assert local_stack.schedules.dead_letters == []
