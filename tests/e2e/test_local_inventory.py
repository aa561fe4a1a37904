"""The inventory on `baton local` over HTTP: a journey's send counts in its entry and its last
sent day, `?stale=true` leaves out what is active, `baton inventory --format json` prints the
same entries, and a template answers who uses it (404 for one the catalog lacks)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra import cli
from infra.http_client import LocalClient
from infra.local import LocalStack

pytestmark = pytest.mark.e2e


def _ok(answer: Any, status: int = 200) -> Any:
    assert answer.status == status, answer.text
    return answer.json()


def _entries(api: LocalClient, query: str = "") -> dict[str, dict[str, Any]]:
    return {entry["id"]: entry for entry in _ok(api.get(f"/v1/inventory{query}"))["items"]}


def test_a_send_shows_in_its_entry_and_the_cli_prints_the_same_entries(
    api: LocalClient, local_stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a customer with a phone
    day = str(_ok(api.get("/_local/clock"))["now"])[:10]
    before = _entries(api)["journey/order-shipped/notify"]
    body = {"phone": "+14155550177", "first_name": "Rui", "country": "US"}
    assert api.put("/v1/contacts/inv-phone", json_body=body).status in (200, 201)

    # when their order ships
    event = {
        "contact_id": "inv-phone",
        "type": "order.shipped",
        "data": {"order_id": "I-1", "tracking_url": "https://t.example/i1"},
        "idempotency_key": "inv-ship-1",
    }
    assert _ok(api.post("/v1/events", json_body=event), 202)["journeys_started"] == ["order-shipped"]

    # then the step's entry counts the send, today, and it is active
    entries = _entries(api)
    after = entries["journey/order-shipped/notify"]
    assert after["last_7_days"]["sent"] == before["last_7_days"]["sent"] + 1
    assert after["last_sent"] == day
    assert "active" in after["statuses"]
    assert after["owner"] == "ops@example.com"
    assert after["templates"] == ["order-shipped"]
    assert "builtin/review-digest" in entries
    # and `?stale=true` lists only entries with more than `active` to say
    stale = _entries(api, "?stale=true")
    assert all(entry["statuses"] != ["active"] for entry in stale.values())
    assert set(stale) <= set(entries)

    # and `baton inventory --format json` prints the same entries
    args = ["inventory", "--format", "json", "--url", local_stack.base_url, "--token", local_stack.token]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    printed = json.loads(out[out.index("[\n") : out.rindex("\n]") + 2])
    assert [entry["id"] for entry in printed] == list(entries)


def test_a_template_answers_its_owner_approval_and_users_and_an_unknown_one_is_a_404(
    api: LocalClient,
) -> None:
    template = _ok(api.get("/v1/templates/csat-survey"))
    assert template["id"] == "csat-survey"
    assert {"journey": "support-follow-up", "step": "feedback"} in template["used_by"]
    assert template["approval"]["source"] in ("template", "none")
    assert "en" in template["locales"]

    missing = api.get("/v1/templates/no-such-template")
    assert missing.status == 404
    assert missing.json()["error"]["code"] == "not_found"
    assert "csat-survey" in [item["id"] for item in _ok(api.get("/v1/templates"))["items"]]
