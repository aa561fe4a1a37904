"""The sample `welcome` journey (journeys/welcome.yaml) on the session's local stack, over HTTP:
an event starts it, the first message is in the outbox when the call returns, and the tip three
days later arrives when the virtual clock gets there (inside its 09:00-18:00 window).

These move the session stack's clock forward (time never goes back), so they run last."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest

from baton.clock import from_iso, to_iso
from infra.http_client import LocalClient
from infra.local import LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.moves_session_clock]

ZONE = "America/New_York"


def _next_local(stack: LocalStack, at: time) -> datetime:
    """The first instant, from the stack's now on, when it is `at` in ZONE."""
    now = stack.clock.now().astimezone(ZoneInfo(ZONE))
    candidate = datetime.combine(now.date(), at, tzinfo=ZoneInfo(ZONE))
    return (
        candidate
        if candidate >= now
        else datetime.combine(now.date() + timedelta(days=1), at, ZoneInfo(ZONE))
    )


OPT_IN_CONFIRMED = "You are subscribed to text messages"


def _subscriber(api: LocalClient, contact_id: str, email: str, phone: str) -> None:
    resp = api.put(
        f"/v1/contacts/{contact_id}",
        json_body={"email": email, "phone": phone, "first_name": "Rosa", "locale": "en", "timezone": ZONE},
    )
    assert resp.status in (200, 201), resp.text
    for channel in ("sms", "email"):
        resp = api.post(
            f"/v1/contacts/{contact_id}/consents",
            json_body={
                "channel": channel,
                "topic": "news",
                "status": "granted",
                "basis": "express",
                "source": "agent",
                "proof": {
                    "consent_text": "Send me news by text and email.",
                    "obtained_at": "2026-01-05T10:00:00Z",
                },
            },
        )
        assert resp.status == 201, resp.text
    # The agent's SMS opt-in got its one confirmation (R-CTIA-3) before any journey ran.
    (confirmation,) = _all_sent(api, phone)
    assert OPT_IN_CONFIRMED in confirmation["body"]


def _confirmed(api: LocalClient, contact_id: str) -> Any:
    resp = api.post(
        "/v1/events",
        json_body={
            "contact_id": contact_id,
            "type": "subscription.confirmed",
            "data": {},
            "idempotency_key": f"confirmed-{contact_id}",
        },
    )
    assert resp.status == 202, resp.text
    return resp.json()


def _all_sent(api: LocalClient, to: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = api.get(f"/_local/outbox?{urlencode({'to': to})}").json()
    return messages


def _outbox(api: LocalClient, to: str) -> list[dict[str, Any]]:
    """What the journey sent: every message but the opt-in's own confirmation."""
    return [message for message in _all_sent(api, to) if OPT_IN_CONFIRMED not in message["body"]]


def _move(api: LocalClient, body: dict[str, str]) -> None:
    resp = api.post("/_local/clock", json_body=body)
    assert resp.status == 200, resp.text


def test_welcome_sends_hello_at_once_and_the_tip_three_days_later(
    local_stack: LocalStack, api: LocalClient
) -> None:
    # A New York number for a New York contact: quiet hours hold in both zones (R-TCPA-2).
    email, phone = "rosa.welcome@example.com", "+12125550143"
    _subscriber(api, "j4-welcome-1", email, phone)
    start = _next_local(local_stack, time(10, 0))
    _move(api, {"to": to_iso(start)})

    answer = _confirmed(api, "j4-welcome-1")

    assert answer == {"journeys_started": ["welcome"]}
    assert [(m["channel"], from_iso(m["sent_at"])) for m in _outbox(api, phone)] == [("sms", start)]
    assert _outbox(api, email) == []
    _move(api, {"advance": "2d"})
    assert _outbox(api, email) == []
    _move(api, {"advance": "1d"})
    (tip,) = _outbox(api, email)
    assert tip["subject"] == "A tip to get started with Baton Demo Co"
    assert from_iso(tip["sent_at"]) == start + timedelta(days=3)


def test_welcome_tip_due_at_night_is_held_until_its_window_opens(
    local_stack: LocalStack, api: LocalClient
) -> None:
    email, phone = "rosa.night@example.com", "+12125550144"
    _subscriber(api, "j4-welcome-2", email, phone)
    start = _next_local(local_stack, time(20, 0))  # SMS still allowed (before 21:00); tip is not
    _move(api, {"to": to_iso(start)})
    _confirmed(api, "j4-welcome-2")
    assert [m["channel"] for m in _outbox(api, phone)] == ["sms"]

    _move(api, {"advance": "3d"})

    assert _outbox(api, email) == []
    opens = datetime.combine(
        (start + timedelta(days=4)).astimezone(ZoneInfo(ZONE)).date(), time(9, 0), ZoneInfo(ZONE)
    )
    waiting = {w["until"] for w in api.get("/_local/clock").json()["waiting"]}
    assert to_iso(opens) in waiting
    _move(api, {"to": to_iso(opens)})
    (tip,) = _outbox(api, email)
    assert from_iso(tip["sent_at"]) == opens


def test_the_marketing_tips_body_link_and_header_link_both_unsubscribe(
    local_stack: LocalStack, api: LocalClient
) -> None:
    # R-CANSPAM-1, R-MBX-1/2, over HTTP through the synthesized template's routes.
    email, phone = "rosa.unsubscribe@example.com", "+12125550145"
    _subscriber(api, "j4-welcome-3", email, phone)
    _move(api, {"to": to_iso(_next_local(local_stack, time(10, 0)))})
    _confirmed(api, "j4-welcome-3")
    _move(api, {"advance": "3d"})
    (tip,) = _outbox(api, email)
    body_link = re.search(r"https?://\S+(/v1/unsubscribe/[A-Za-z0-9_.-]+)", tip["body"])
    header_link = re.search(r"(/v1/unsubscribe/[A-Za-z0-9_.-]+)>", tip["headers"]["List-Unsubscribe"])
    assert body_link is not None
    assert header_link is not None
    form = {"Content-Type": "application/x-www-form-urlencoded"}

    page = api.get(body_link.group(1), auth=False)  # the person clicks the link in the body

    assert page.status == 200
    assert 'name="List-Unsubscribe" value="One-Click"' in page.text
    assert _news(api, "j4-welcome-3") == "granted"  # opening the page changed nothing
    button = api.post(body_link.group(1), auth=False, data="List-Unsubscribe=One-Click", headers=form)
    assert button.status == 200
    assert _news(api, "j4-welcome-3") == "revoked"
    one_click = api.post(header_link.group(1), auth=False, data="List-Unsubscribe=One-Click", headers=form)
    assert one_click.status == 200  # the mailbox provider's POST to the header's link (RFC 8058)


def _news(api: LocalClient, contact_id: str) -> str:
    states = api.get(f"/v1/contacts/{contact_id}/export").json()["consent"]["states"]
    (news,) = [s["status"] for s in states if s["channel"] == "email" and s["topic"] == "news"]
    return str(news)
