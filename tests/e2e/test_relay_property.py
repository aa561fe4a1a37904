"""The hand-off guarantee, as a property: no automated send that follows a hand-off step happens
before that task is completed, whatever completions, timeouts, clock moves, events and delivery
receipts come in between (journeys/support-follow-up.yaml on the session's local stack, over HTTP).

After the ack, every message to the contact (the survey, its failover, the reminder) must be
sent at or after a `handoff.completed` of the `agent-reply` step on the contact's timeline; when
the task and its escalation time out, nothing follows the ack. These move the session stack's
clock forward, so they run last."""

from __future__ import annotations

import itertools
import uuid
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from baton.clock import from_iso
from infra.http_client import LocalClient

pytestmark = [pytest.mark.e2e, pytest.mark.moves_session_clock]

JOURNEY = "support-follow-up"
HANDOFF_STEP = "agent-reply"
QUEUES = ("support-agents", "support-leads", "account-managers")
_PHONES = itertools.count(1000)

Action = tuple[str, str]

_advance = st.tuples(st.just("advance"), st.sampled_from(["10m", "1h", "5h", "12h", "23h", "24h", "30h"]))
_complete = st.tuples(st.just("complete"), st.just(""))
# Weighted towards moving the clock and completing, so that most runs get past the hand-off.
actions = st.one_of(
    _advance,
    _advance,
    _advance,
    _complete,
    _complete,
    st.tuples(st.just("event"), st.sampled_from(["survey.answered", "page.viewed"])),
    st.tuples(st.just("receipt"), st.sampled_from(["delivered", "failed"])),
)


def _ok(resp: Any, status: int, what: str) -> Any:
    assert resp.status == status, f"{what}: HTTP {resp.status}: {resp.text[:300]}"
    return resp.json()


def _outbox(api: LocalClient, *addresses: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    for to in addresses:
        messages += _ok(api.get(f"/_local/outbox?{urlencode({'to': to})}"), 200, "outbox")
    return sorted(messages, key=lambda m: from_iso(m["sent_at"]))


def _timeline(api: LocalClient, contact_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = _ok(
        api.get(f"/v1/contacts/{contact_id}/timeline?limit=100"), 200, "timeline"
    )["items"]
    return items


def _open_task(api: LocalClient, contact_id: str) -> dict[str, Any] | None:
    for queue in QUEUES:
        for task in _ok(api.get(f"/v1/tasks?{urlencode({'queue': queue})}"), 200, "tasks")["items"]:
            if task["contact_id"] == contact_id:
                found: dict[str, Any] = task
                return found
    return None


def _event(api: LocalClient, contact_id: str, event_type: str, key: str) -> Any:
    body = {"contact_id": contact_id, "type": event_type, "data": {"request_id": key}, "idempotency_key": key}
    return _ok(api.post("/v1/events", json_body=body), 202, f"POST /v1/events {event_type}")


def _receipt(api: LocalClient, message: dict[str, Any], outcome: str) -> None:
    if message["channel"] == "sms":
        status = "DELIVERED" if outcome == "delivered" else "UNREACHABLE"
        detail = {
            "eventType": f"TEXT_{status}",
            "messageId": message["message_id"],
            "destinationPhoneNumber": message["to"],
            "messageStatus": status,
            "isFinal": True,
        }
        body: dict[str, Any] = {
            "source": "aws.sms-voice",
            "detail-type": "Text Message Delivery Status Updated",
            "detail": detail,
        }
    else:
        kind = "delivery" if outcome == "delivered" else "bounce"
        body = {"type": kind, "message_id": message["message_id"]}
    _ok(api.post("/_local/ses-event", json_body=body), 202, f"receipt {outcome}")


def _check_relay(
    api: LocalClient,
    contact_id: str,
    addresses: tuple[str, ...],
    ack: set[str],
    completed: bool,
    trail: list[Action],
) -> None:
    """Every message after the ack was sent at or after the hand-off's completion, and none
    without one."""
    completions = sorted(
        from_iso(e["at"])
        for e in _timeline(api, contact_id)
        if e["kind"] == "handoff.completed" and e["detail"].get("step") == HANDOFF_STEP
    )
    assert bool(completions) == completed, (trail, completions)
    for message in _outbox(api, *addresses):
        if message["message_id"] in ack:
            continue
        what = (message["channel"], message["subject"] or message["body"][:60], message["sent_at"])
        assert completions, f"{what} was sent though no hand-off task was completed; actions {trail}"
        assert from_iso(message["sent_at"]) >= completions[0], (
            f"{what} was sent before the hand-off completed at {completions[0]}; actions {trail}"
        )


@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    with_phone=st.booleans(),
    zone=st.sampled_from(["America/New_York", "Europe/Lisbon", "Asia/Tokyo"]),
    plan=st.sampled_from(["starter", "enterprise"]),
    steps=st.lists(actions, max_size=8),
)
# The baton passed: a day later the survey by SMS, then by email (no receipt within 10 min).
@example(
    with_phone=True,
    zone="America/New_York",
    plan="starter",
    steps=[("advance", "1h"), ("complete", ""), ("advance", "30h"), ("advance", "5h"), ("receipt", "failed")],
)
# Nobody answers: the task escalates to the leads, they miss it too, nothing follows the ack.
@example(with_phone=False, zone="Asia/Tokyo", plan="enterprise", steps=[("advance", "30h")])
def test_no_send_after_a_handoff_comes_before_its_task_is_completed(
    api: LocalClient, with_phone: bool, zone: str, plan: str, steps: list[Action]
) -> None:
    contact_id = f"relay-prop-{uuid.uuid4().hex[:12]}"
    email = f"{contact_id}@example.com"
    phone = f"+1646555{next(_PHONES):04d}"
    addresses = (email, phone) if with_phone else (email,)
    profile: dict[str, Any] = {"email": email, "locale": "en", "timezone": zone, "attributes": {"plan": plan}}
    if with_phone:
        profile["phone"] = phone
    resp = api.put(f"/v1/contacts/{contact_id}", json_body=profile)
    assert resp.status in (200, 201), resp.text

    started = _event(api, contact_id, "support.request_created", f"{contact_id}-req")
    assert started == {"journeys_started": [JOURNEY]}
    sent = _outbox(api, *addresses)
    assert [m["channel"] for m in sent] == ["email"], sent  # the ack, at once
    ack = {m["message_id"] for m in sent}

    completed = False
    trail: list[Action] = []
    for n, (kind, arg) in enumerate(steps):
        trail.append((kind, arg))
        if kind == "advance":
            _ok(api.post("/_local/clock", json_body={"advance": arg}), 200, f"advance {arg}")
        elif kind == "complete":
            task = _open_task(api, contact_id)
            if task is not None:
                path = f"/v1/tasks/{task['task_id']}/complete"
                done = _ok(api.post(path, json_body={"outcome": "answered"}), 200, "complete")
                completed = completed or done["step"] == HANDOFF_STEP
                again = api.post(path, json_body={"outcome": "answered"})
                assert again.status == 409, again.text
                assert again.json()["error"]["code"] == "task_already_completed"
        elif kind == "event":
            _event(api, contact_id, arg, f"{contact_id}-{n}")
        else:
            latest = _outbox(api, *addresses)
            if latest:
                _receipt(api, latest[-1], arg)
        _check_relay(api, contact_id, addresses, ack, completed, trail)
    for drain in ("30h", "30h", "30h"):  # then let every wait, window and timeout fall due
        trail.append(("advance", drain))
        _ok(api.post("/_local/clock", json_body={"advance": drain}), 200, f"advance {drain}")
        _check_relay(api, contact_id, addresses, ack, completed, trail)
    followed = len(_outbox(api, *addresses)) - len(ack)
    kinds = {e["kind"] for e in _timeline(api, contact_id)}
    event(f"hand-off completed: {completed}; sent after the ack: {min(followed, 3)}")
    event(f"timed out: {'handoff.timed_out' in kinds}; escalated: {'handoff.escalated' in kinds}")
