"""A long run on the session's local stack, over HTTP (R-REL-1): a journey email held by a used-up
SES quota is asked again every 15 minutes; before the execution's history could reach Step
Functions' 25,000 events, the run goes on in a new execution of the same state machine, compiled
as `cdk deploy` compiles it, and the email goes out once, from there, when the quota has room.

This moves the session stack's clock forward (time never goes back), so it runs last."""

from __future__ import annotations

import itertools
from typing import Any
from urllib.parse import urlencode

import pytest

from infra.http_client import LocalClient
from infra.local import LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.moves_session_clock]

CONTACT_ID = "crm-long-run-3308"
EMAIL = "long.runner@example.com"
# More holds than the support journey's state machine counts before it continues (17 at its size).
HOLDS = 40


def _ok(resp: Any, status: int, what: str) -> Any:
    assert resp.status == status, f"{what}: HTTP {resp.status}: {resp.text[:300]}"
    return resp.json()


def _timeline(api: LocalClient) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = _ok(
        api.get(f"/v1/contacts/{CONTACT_ID}/timeline?limit=100"), 200, "timeline"
    )["items"]
    return items


def _emails(api: LocalClient) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = _ok(api.get(f"/_local/outbox?{urlencode({'to': EMAIL})}"), 200, "outbox")
    return messages


def test_r_rel_1_an_email_held_for_hours_goes_out_once_from_the_execution_the_run_continued_in(
    ses_quota_used_up: LocalStack, api: LocalClient
) -> None:
    stack = ses_quota_used_up
    _ok(api.put(f"/v1/contacts/{CONTACT_ID}", json_body={"email": EMAIL, "first_name": "Lee"}), 201, "upsert")
    event = {
        "contact_id": CONTACT_ID,
        "type": "support.request_created",
        "data": {"message": "Where is my parcel?"},
        "idempotency_key": f"long-{CONTACT_ID}",
    }
    _ok(api.post("/v1/events", json_body=event), 202, "event")

    # when the quota stays used up for ten hours, rechecked every 15 minutes
    for _ in range(HOLDS):
        _ok(api.post("/_local/clock", json_body={"advance": "15m"}), 200, "clock")

    # then nothing went out and the run was handed on to new executions, each from the last
    assert _emails(api) == []
    kinds = [item["kind"] for item in _timeline(api)]
    assert kinds.count("message.held") == HOLDS + 1
    continued = [item["detail"] for item in reversed(_timeline(api)) if item["kind"] == "journey.continued"]
    assert len(continued) >= 2
    (started,) = [item["detail"] for item in _timeline(api) if item["kind"] == "journey.started"]
    assert continued[0]["execution"] == started["execution"]
    for older, newer in itertools.pairwise(continued):
        assert newer["execution"] == older["continued_as"]
    assert {c["at"] for c in continued} == {"Hold ack"}
    assert "journey.failed" not in kinds

    # when the quota has room again, the acknowledgement goes out once
    stack.ses_account.sent_before = 0
    _ok(api.post("/_local/clock", json_body={"advance": "15m"}), 200, "clock")

    (ack,) = _emails(api)
    assert ack["subject"] == "We got your request"
    assert [item["kind"] for item in _timeline(api)].count("message.sent") == 1
