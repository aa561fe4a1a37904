"""The contract's error answers, through HTTP on the local stack: and nothing written on any error."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from infra.http_client import LocalClient

pytestmark = pytest.mark.e2e


def _signup(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "email": f"{uuid.uuid4().hex[:8]}@example.com",
        "first_name": "Test",
        "locale": "en",
        "timezone": "America/New_York",
        "country": "US",
        "topics": ["news"],
        "channels": ["email"],
        "consent_text": "Send me news.",
        "form_id": "f1",
        "page_url": "https://www.example.com/",
    }
    body.update(overrides)
    return body


def _error(resp: Any) -> dict[str, Any]:
    payload = resp.json()
    assert set(payload) == {"error"}
    assert {"code", "message", "details"} <= set(payload["error"])
    error: dict[str, Any] = payload["error"]
    return error


def _fields(error: dict[str, Any]) -> set[str]:
    return {detail["field"] for detail in error["details"]}


def _outbox_size(api: LocalClient) -> int:
    return len(api.get("/_local/outbox").json())


def test_malformed_json_is_400_and_sends_nothing(api: LocalClient) -> None:
    before = _outbox_size(api)

    resp = api.post(
        "/v1/subscriptions", data="{not json", headers={"Content-Type": "application/json"}, auth=False
    )

    assert resp.status == 400
    assert _error(resp)["code"] == "malformed_json"
    assert _outbox_size(api) == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("phone", "not a phone"),
        ("email", "ana@@example"),
        ("timezone", "Mars/Olympus_Mons"),
        ("locale", "xx-YY"),
        ("country", "ZZ"),
    ],
)
def test_invalid_field_is_422_naming_it_and_writes_nothing(api: LocalClient, field: str, value: str) -> None:
    contact_id = f"err-{uuid.uuid4().hex[:8]}"

    resp = api.put(f"/v1/contacts/{contact_id}", json_body={"email": "ok@example.com", field: value})

    assert resp.status == 422
    assert field in _fields(_error(resp))
    assert api.get(f"/v1/contacts/{contact_id}").status == 404


def test_unknown_field_is_422_naming_it(api: LocalClient) -> None:
    before = _outbox_size(api)

    resp = api.post("/v1/subscriptions", json_body=_signup(favourite_colour="blue"), auth=False)

    assert resp.status == 422
    assert "favourite_colour" in _fields(_error(resp))
    assert _outbox_size(api) == before


def test_subscription_with_bad_phone_is_422_and_sends_nothing(api: LocalClient) -> None:
    before = _outbox_size(api)

    resp = api.post("/v1/subscriptions", json_body=_signup(phone="12", channels=["email", "sms"]), auth=False)

    assert resp.status == 422
    assert "phone" in _fields(_error(resp))
    assert _outbox_size(api) == before


def test_forged_token_is_403_on_every_public_token_route(api: LocalClient) -> None:
    forged = "eyJjIjoiYW55b25lIn0.c2lnbmF0dXJl"

    answers = [
        api.get(f"/v1/confirm/{forged}", auth=False).status,
        api.get(f"/v1/preferences/{forged}", auth=False).status,
        api.post(
            f"/v1/preferences/{forged}",
            data="email:news=on",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            auth=False,
        ).status,
        api.post(
            f"/v1/unsubscribe/{forged}",
            data="List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            auth=False,
        ).status,
    ]

    assert answers == [403, 403, 403, 403]


def test_unknown_contact_is_404_on_every_private_contact_route(api: LocalClient) -> None:
    missing = f"missing-{uuid.uuid4().hex[:8]}"

    answers = [
        api.get(f"/v1/contacts/{missing}").status,
        api.get(f"/v1/contacts/{missing}/export").status,
        api.get(f"/v1/contacts/{missing}/timeline").status,
        api.delete(f"/v1/contacts/{missing}").status,
        api.post(
            f"/v1/contacts/{missing}/consents",
            json_body={
                "channel": "email",
                "topic": "news",
                "status": "revoked",
                "basis": "express",
                "source": "agent",
            },
        ).status,
    ]

    assert answers == [404, 404, 404, 404, 404]


def test_oversized_body_is_413_and_writes_nothing(api: LocalClient) -> None:
    contact_id = f"big-{uuid.uuid4().hex[:8]}"
    body = json.dumps({"email": "big@example.com", "attributes": {"blob": "x" * 200_000}})

    resp = api.put(f"/v1/contacts/{contact_id}", data=body, headers={"Content-Type": "application/json"})

    assert resp.status == 413
    assert _error(resp)["code"] == "payload_too_large"
    assert api.get(f"/v1/contacts/{contact_id}").status == 404


def test_timeline_with_bad_cursor_is_422_naming_cursor(api: LocalClient) -> None:
    contact_id = f"cur-{uuid.uuid4().hex[:8]}"
    assert api.put(f"/v1/contacts/{contact_id}", json_body={"email": f"{contact_id}@example.com"}).status in (
        200,
        201,
    )

    resp = api.get(f"/v1/contacts/{contact_id}/timeline?cursor=garbage")

    assert resp.status == 422
    assert "cursor" in _fields(_error(resp))
