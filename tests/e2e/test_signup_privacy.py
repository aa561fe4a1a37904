"""The public sign-up form over HTTP on the local stack: it cannot move a customer's messages to
another number, and no link Baton sends carries an address, a phone number or a name."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any
from urllib.parse import quote, unquote, urlencode

import pytest

from infra.http_client import LocalClient

pytestmark = pytest.mark.e2e

_TOKEN = re.compile(r"/v1/(?:confirm|preferences|unsubscribe)/([A-Za-z0-9_.-]+)")


def _outbox(api: LocalClient, to: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = api.get(f"/_local/outbox?{urlencode({'to': to})}").json()
    return messages


def _sign_up(api: LocalClient, **fields: Any) -> str:
    body = {"topics": ["news"], "consent_text": "Send me news.", "form_id": "footer", **fields}
    resp = api.post("/v1/subscriptions", auth=False, json_body=body)
    assert resp.status == 202, resp.text
    assert resp.json()["status"] == "pending_confirmation"
    contact_id: str = resp.json()["contact_id"]
    return contact_id


def _texts_of(message: dict[str, Any]) -> list[str]:
    return [message["body"] or "", message["html"] or "", *message["headers"].values()]


def _decoded(token: str) -> str:
    """Every part of the token as base64url decodes it (whatever decodes), and the token itself."""
    parts = [token, unquote(token)]
    for piece in token.split("."):
        try:
            parts.append(base64.urlsafe_b64decode(piece + "=" * (-len(piece) % 4)).decode("utf-8", "replace"))
        except (binascii.Error, ValueError):
            continue
    return "\n".join(parts)


def _b64_forms(value: str) -> list[str]:
    """The characters `value` always becomes in base64url, whatever its byte offset in a payload:
    for each of the three alignments, the encoding without the characters its neighbours share."""
    forms = []
    for offset, shared_head in ((0, 0), (1, 2), (2, 3)):
        encoded = base64.urlsafe_b64encode(b"\0" * offset + value.encode()).decode().rstrip("=")
        forms.append(encoded[shared_head:-3])
    return [form for form in forms if len(form) >= 6]


def test_a_form_cannot_send_a_customers_order_texts_to_another_number(api: LocalClient) -> None:
    ana, email, attacker = "takeover-ana", "ana.takeover@example.com", "+12025550187"
    resp = api.put(
        f"/v1/contacts/{ana}",
        json_body={"email": email, "first_name": "Ana", "locale": "en", "timezone": "America/New_York"},
    )
    assert resp.status == 201, resp.text

    answered = _sign_up(api, email=email, phone=attacker, channels=["email", "sms"], first_name="Mallory")
    resp = api.post("/_local/sms-inbound", json_body={"from": attacker, "body": "YES"})
    assert resp.status == 202, resp.text
    data = {"order_id": "A-1001", "tracking_url": "https://track.example.com/A-1001"}
    resp = api.post(
        "/v1/events",
        json_body={
            "contact_id": ana,
            "type": "order.shipped",
            "data": data,
            "idempotency_key": "ship-A-1001",
        },
    )
    assert resp.status == 202, resp.text

    assert answered != ana
    assert not [m for m in _outbox(api, attacker) if "A-1001" in m["body"]]
    # Ana has no number of her own: the SMS step fails over to her email.
    assert [m["channel"] for m in _outbox(api, email) if "A-1001" in m["body"]] == ["email"]
    contact = api.get(f"/v1/contacts/{ana}").json()
    assert (contact["phone"], contact["first_name"], contact["locale"]) == (None, "Ana", "en")


def test_no_link_baton_sends_carries_an_address_phone_or_name(api: LocalClient) -> None:
    email, phone, name = "zelda.links@example.com", "+12025550166", "Zelda"
    _sign_up(api, email=email, phone=phone, first_name=name, channels=["email", "sms"], timezone="UTC")
    (request,) = _outbox(api, email)
    confirm = _TOKEN.search(request["body"])
    assert confirm is not None
    offered = api.get(f"/v1/confirm/{confirm.group(1)}", auth=False)  # the page: one button
    assert offered.status == 200, offered.text
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    page = api.post(f"/v1/confirm/{confirm.group(1)}", auth=False, data="", headers=form)
    assert page.status == 200, page.text
    api.post("/_local/sms-inbound", json_body={"from": phone, "body": "YES"})

    texts = [page.text, *(text for to in (email, phone) for m in _outbox(api, to) for text in _texts_of(m))]
    tokens = sorted({token for text in texts for token in _TOKEN.findall(text)})

    assert len(tokens) >= 3  # confirm, unsubscribe (body and header) and preferences, at least
    secrets = [email, email.split("@")[0], phone, phone.lstrip("+"), name, name.lower()]
    for token in tokens:
        readable = _decoded(token).lower()
        for secret in secrets:
            assert secret.lower() not in readable, token
            assert quote(secret, safe="").lower() not in readable, token
            assert not any(form in token for form in _b64_forms(secret)), token


def _sms_consents(api: LocalClient, contact_id: str) -> dict[str, str]:
    resp = api.get(f"/v1/contacts/{contact_id}/export")
    assert resp.status == 200, resp.text
    states = resp.json()["consent"]["states"]
    return {state["topic"]: state["status"] for state in states if state["channel"] == "sms"}


def _text_in(api: LocalClient, number: str, body: str) -> None:
    resp = api.post("/_local/sms-inbound", json_body={"from": number, "body": body})
    assert resp.status == 202, resp.text


def test_sign_ups_filed_in_a_strangers_name_are_not_confirmed_by_their_yes(api: LocalClient) -> None:
    victim = "+12025550143"
    own = _sign_up(api, phone=victim, channels=["sms"], topics=["news"])
    _text_in(api, victim, "STOP")  # the victim does not want these texts, then ...
    filed = [_sign_up(api, phone=victim, channels=["sms"], topics=["offers"]) for _ in range(3)]
    texts_before = len(_outbox(api, victim))

    _text_in(api, victim, "YES")  # ... answers YES to something, or by mistake

    assert len(_outbox(api, victim)) == texts_before  # no confirmation ever went out, none now
    assert _sms_consents(api, own) == {"news": "revoked"}
    for contact_id in filed:
        assert _sms_consents(api, contact_id) == {"offers": "pending"}
