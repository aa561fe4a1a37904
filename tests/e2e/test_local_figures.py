"""Figures on `baton local` over HTTP: sample journeys run through their state machines, then
`GET /v1/journeys/{id}/figures` and `GET /v1/queues/{queue}/figures` answer what they added,
`baton figures JOURNEY --json` prints the same numbers, and unknown journeys and bad days are
refused in the contract's words."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any
from urllib.parse import urlencode

import pytest

from infra import cli
from infra.http_client import LocalClient
from infra.local import LocalStack

pytestmark = pytest.mark.e2e


def _ok(answer: Any, status: int = 200) -> Any:
    assert answer.status == status, answer.text
    return answer.json()


def _today(api: LocalClient) -> str:
    return str(_ok(api.get("/_local/clock"))["now"])[:10]


def _journey(api: LocalClient, journey: str, day: str) -> dict[str, Any]:
    figures: dict[str, Any] = _ok(
        api.get(f"/v1/journeys/{journey}/figures?{urlencode({'from': day, 'to': day})}")
    )
    return figures


def _added(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {name: amount for name, amount in (Counter(after) - Counter(before)).items() if amount}


def _printed_json(out: str) -> Any:
    """The indented JSON document the CLI printed (the in-process stack logs on stdout too, one
    line per record)."""
    lines = out.splitlines()
    first = lines.index("{")
    return json.loads("\n".join(lines[first : lines.index("}", first) + 1]))


def _event(api: LocalClient, contact_id: str, event_type: str, key: str, **data: Any) -> list[str]:
    body = {"contact_id": contact_id, "type": event_type, "data": data, "idempotency_key": key}
    started: list[str] = _ok(api.post("/v1/events", json_body=body), 202)["journeys_started"]
    return started


def test_a_journeys_figures_answer_what_its_runs_added_and_the_cli_prints_the_same(
    api: LocalClient, local_stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    # given the order-shipped journey's figures today, and two customers: one with a phone,
    # one with an email address only
    day = _today(api)
    before = _journey(api, "order-shipped", day)
    for contact_id, body in {
        "fig-phone": {"phone": "+14155550142", "first_name": "Iris", "country": "US"},
        "fig-email": {"email": "fig-email@example.com", "first_name": "Joao"},
    }.items():
        assert api.put(f"/v1/contacts/{contact_id}", json_body=body).status in (200, 201)

    # when their orders ship (the journey: SMS first, email if SMS is not possible)
    assert _event(
        api, "fig-phone", "order.shipped", "fig-ship-1", order_id="A-1", tracking_url="https://t.example/1"
    ) == ["order-shipped"]
    assert _event(
        api, "fig-email", "order.shipped", "fig-ship-2", order_id="A-2", tracking_url="https://t.example/2"
    ) == ["order-shipped"]

    # then the figures grew by exactly those two runs: entered, sent (one text, one email),
    # the text the second could not get, completed at the send
    after = _journey(api, "order-shipped", day)
    assert _added(before["totals"], after["totals"]) == {
        "entered": 2,
        "sent": 2,
        "skipped.no_address": 1,
        "completed": 2,
    }
    assert _added(before["channels"].get("sms", {}), after["channels"]["sms"]) == {
        "sent": 1,
        "skipped.no_address": 1,
    }
    assert _added(before["channels"].get("email", {}), after["channels"]["email"]) == {"sent": 1}
    (notify,) = [step for step in after["steps"] if step["step"] == "notify"]
    assert notify["template"] == "order-shipped"
    assert after["rates"]["completed"] == after["totals"]["completed"] / after["totals"]["entered"]

    # and `baton figures order-shipped --json` prints the same numbers
    args = ["figures", "order-shipped", "--from", day, "--to", day, "--json"]
    assert cli.main([*args, "--url", local_stack.base_url, "--token", local_stack.token]) == 0
    assert _printed_json(capsys.readouterr().out) == after


def test_a_queues_figures_answer_its_hand_offs_created_and_completed(api: LocalClient) -> None:
    day = _today(api)
    span = urlencode({"from": day, "to": day})
    before = _ok(api.get(f"/v1/queues/support-agents/figures?{span}"))
    body = {"email": "fig-support@example.com", "first_name": "Kai"}
    assert api.put("/v1/contacts/fig-support", json_body=body).status in (200, 201)

    # when a support request hands off to the support agents, and an agent answers at once
    assert _event(api, "fig-support", "support.request_created", "fig-req-1", request_id="77") == [
        "support-follow-up"
    ]
    tasks = _ok(api.get("/v1/tasks?queue=support-agents"))["items"]
    (task,) = [task for task in tasks if task["contact_id"] == "fig-support"]
    completion = {"outcome": "answered", "note": "replied by email"}
    assert api.post(f"/v1/tasks/{task['task_id']}/complete", json_body=completion).status == 200

    # then the queue's figures count one created and one completed, in the first bucket (5 min)
    after = _ok(api.get(f"/v1/queues/support-agents/figures?{span}"))
    assert (after["created"] - before["created"], after["completed"] - before["completed"]) == (1, 1)
    assert after["late"] == before["late"]
    buckets_added = _added(before["time_to_complete_buckets"], after["time_to_complete_buckets"])
    assert buckets_added == {"ttc.300": 1}
    assert after["time_to_complete_p50_s"] is not None


def test_figures_of_an_unknown_journey_or_of_bad_days_are_refused(api: LocalClient) -> None:
    missing = api.get("/v1/journeys/no-such-journey/figures")
    assert missing.status == 404

    for query, field in (
        ({"from": "2026-13-01"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"from": "2026-05-02", "to": "2026-05-01"}, "from"),
        ({"from": "2020-01-01", "to": "2026-01-01"}, "to"),  # over 400 days
    ):
        answer = api.get(f"/v1/journeys/welcome/figures?{urlencode(query)}")
        assert answer.status == 422, (query, answer.text)
        assert [detail["field"] for detail in answer.json()["error"]["details"]] == [field]
        assert api.get(f"/v1/queues/support-agents/figures?{urlencode(query)}").status == 422


def test_the_cli_says_why_when_the_journey_is_unknown(
    local_stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["figures", "no-such-journey", "--url", local_stack.base_url, "--token", local_stack.token]
    assert cli.main(args) == 1
    assert "baton figures:" in capsys.readouterr().out
