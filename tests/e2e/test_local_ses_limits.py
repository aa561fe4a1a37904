"""The SES account's limits on the session's local stack (R-SES-1): a journey's email with the
account's 24-hour quota used up is held, not sent and not lost, and goes out when the journey
looks again after the quota has room. Local `GetAccount` is `LocalStack.ses_account`.

This moves the session stack's clock forward (time never goes back), so it runs last."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest

from baton.clock import from_iso
from baton.delivery.ses_account import RECHECK_AFTER
from infra.http_client import LocalClient
from infra.local import LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.moves_session_clock]

CONTACT_ID = "crm-quota-5521"
EMAIL = "quota.reader@example.com"


def _ok(resp: Any, status: int, what: str) -> Any:
    assert resp.status == status, f"{what}: HTTP {resp.status}: {resp.text[:300]}"
    return resp.json()


def _emails(api: LocalClient) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = _ok(api.get(f"/_local/outbox?{urlencode({'to': EMAIL})}"), 200, "outbox")
    return messages


def _timeline(api: LocalClient) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = _ok(api.get(f"/v1/contacts/{CONTACT_ID}/timeline"), 200, "timeline")[
        "items"
    ]
    return items


def test_r_ses_1_a_journey_email_held_by_a_used_up_quota_goes_out_once_there_is_room(
    ses_quota_used_up: LocalStack, api: LocalClient
) -> None:
    stack = ses_quota_used_up
    _ok(
        api.put(f"/v1/contacts/{CONTACT_ID}", json_body={"email": EMAIL, "first_name": "Quinn"}),
        201,
        "upsert",
    )
    started = stack.clock.now()

    event = {
        "contact_id": CONTACT_ID,
        "type": "support.request_created",
        "data": {"message": "My order is late"},
        "idempotency_key": f"quota-{CONTACT_ID}",
    }
    _ok(api.post("/v1/events", json_body=event), 202, "event")

    # held, not sent, not failed: the step waits to decide again
    assert _emails(api) == []
    (held,) = [item for item in _timeline(api) if item["kind"] == "message.held"]
    assert (held["detail"]["reason"], held["detail"]["rule"]) == ("sending_quota", "R-SES-1")
    assert from_iso(held["detail"]["until"]) == started + RECHECK_AFTER
    assert not [item for item in _timeline(api) if item["kind"] in ("message.failed", "journey.ended")]

    # when the quota has room again and the hold ends, the acknowledgement goes out, once
    stack.ses_account.sent_before = 0
    _ok(api.post("/_local/clock", json_body={"advance": "15m"}), 200, "clock")

    (ack,) = _emails(api)
    assert ack["subject"] == "We got your request"
    assert [item["kind"] for item in _timeline(api)].count("message.sent") == 1
